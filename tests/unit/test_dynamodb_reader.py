"""The redirect's standard-library GetItem client (shared.redirect.dynamodb) against botocore.

Conformance: the request it sends is the one botocore would send (body, headers, and a SigV4
signature byte for byte, re-signed with botocore's SigV4Auth at the same instant); a response
reads as botocore's parser reads it; against moto's server it returns what boto3 returns.
Behaviour: the redirect's limits (timeouts, 2 attempts, what is retried), a dropped kept-alive
connection, rotated credentials, and the endpoint from AWS_ENDPOINT_URL_DYNAMODB.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import socket
import ssl
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
from botocore import parsers
from botocore.auth import SigV4Auth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer
from moto.server import ThreadedMotoServer

from shared.contracts import table
from shared.redirect import dynamodb
from shared.redirect.answer import fetch_link
from shared.redirect.dynamodb import (
    Credentials,
    DynamoDBError,
    DynamoDBUnreachable,
    GetItemClient,
    NoCredentials,
    error_from,
    parse_get_item,
    sign,
)

GET_ITEM = botocore.session.get_session().get_service_model("dynamodb").operation_model("GetItem")
AMZ_DATE = "20260301T123456Z"
INSTANT = datetime.datetime(2026, 3, 1, 12, 34, 56)
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret/with+chars"}


def get_item_params(table_name: str = "squrl-urls-test", code: str = "abc123") -> dict[str, Any]:
    """What shared.redirect.answer.fetch_link passes, in its order."""
    return {
        "TableName": table_name,
        "Key": {"short_code": {"S": code}},
        "ProjectionExpression": "#original_url, #expires_at, #status, #redirect_type",
        "ExpressionAttributeNames": {
            "#original_url": "original_url",
            "#expires_at": "expires_at",
            "#status": "status",
            "#redirect_type": "redirect_type",
        },
        "ConsistentRead": False,
    }


def botocore_signed(
    url: str, body: bytes, region: str, credentials: Credentials, at: datetime.datetime
) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": dynamodb.CONTENT_TYPE, "X-Amz-Target": dynamodb.TARGET},
    )
    signer = SigV4Auth(
        BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token),
        "dynamodb",
        region,
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        signer.add_auth(request)
    return request


# Signatures ---------------------------------------------------------------------------------

SIGNING_CORPUS = [
    ("https://dynamodb.us-east-1.amazonaws.com", "us-east-1", "squrl-urls-prod", "abc123", None),
    ("https://dynamodb.eu-west-1.amazonaws.com", "eu-west-1", "squrl-urls-prod", "Zz9_-x", "tok"),
    (
        "https://dynamodb.ap-southeast-1.amazonaws.com",
        "ap-southeast-1",
        "squrl.urls_staging-2",
        "ünïcödé-😀",
        "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
    ),
    ("https://dynamodb.cn-north-1.amazonaws.com.cn", "cn-north-1", "表-ürls", "短", "t"),
    ("http://127.0.0.1:54321", "us-east-1", "squrl-urls-local", "loc4l", None),
    ("https://localhost:443/", "us-west-2", "squrl-urls-dev", "dev", "token with  spaces"),
    ("http://[::1]:8000", "eu-central-1", "t", "v6", None),
]


@pytest.mark.parametrize(("url", "region", "table_name", "code", "token"), SIGNING_CORPUS)
def test_signatures_are_botocores_byte_for_byte(
    url: str, region: str, table_name: str, code: str, token: str | None
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    client = GetItemClient(region, environ={"AWS_ENDPOINT_URL_DYNAMODB": url})
    body = json.dumps(get_item_params(table_name, code)).encode()
    ours = sign(
        body,
        host=client.host,
        path=client.path,
        region=region,
        credentials=credentials,
        amz_date=AMZ_DATE,
    )
    theirs = botocore_signed(url, body, region, credentials, INSTANT)
    assert ours["Authorization"] == theirs.headers["Authorization"]
    assert ours["X-Amz-Date"] == theirs.headers["X-Amz-Date"] == AMZ_DATE
    assert ours.get("X-Amz-Security-Token") == theirs.headers.get("X-Amz-Security-Token")
    signed = ours["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    expected = "content-type;host;x-amz-date;x-amz-target"
    if token:
        expected = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    assert signed == expected


def test_the_signing_key_is_derived_once_per_day_region_and_service() -> None:
    dynamodb.signing_key.cache_clear()
    credentials = Credentials("AKID", "secret")
    for amz_date in ("20260301T000001Z", "20260301T235959Z", "20260302T000000Z"):
        sign(b"{}", host="h", path="/", region="r", credentials=credentials, amz_date=amz_date)
    info = dynamodb.signing_key.cache_info()
    assert (info.misses, info.hits) == (2, 1)


# The request actually sent --------------------------------------------------------------------


class FakeResponse:
    def __init__(self, status: int, body: bytes, crc32: str | None = None, close: bool = False):
        self.status, self._body, self.will_close = status, body, close
        self._crc32 = str(zlib.crc32(body)) if crc32 is None else crc32

    def read(self) -> bytes:
        return self._body

    def getheader(self, name: str) -> str | None:
        return self._crc32 if name.lower() == "x-amz-crc32" else None


class FakeConnection:
    """One kept-alive connection: records what is sent, answers from a shared script."""

    def __init__(self, script: list[Any], sent: list[tuple[str, bytes, dict[str, str]]]):
        self.script, self.sent, self.sock = script, sent, object()

    def request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.sent.append((url, body, dict(headers)))
        if isinstance(self.script[0], BaseException):
            raise self.script.pop(0)

    def getresponse(self) -> FakeResponse:
        response = self.script.pop(0)
        if response.will_close:  # http.client hands the socket to the response
            self.sock = None
        return response

    def close(self) -> None:
        self.sock = None


class Transport:
    """A connection factory over a script of responses and exceptions, one per request."""

    def __init__(self, *script: Any):
        self.script = list(script)
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.connections: list[FakeConnection] = []
        self.pauses: list[float] = []

    def connect(self) -> FakeConnection:
        self.connections.append(FakeConnection(self.script, self.sent))
        return self.connections[-1]

    def client(self, environ: dict[str, str] | None = None, region: str = "us-east-1") -> Any:
        return GetItemClient(
            region,
            environ=ENV if environ is None else environ,
            connection_factory=self.connect,
            sleep=self.pauses.append,
        )


def ok(item: dict[str, Any] | None = None) -> FakeResponse:
    return FakeResponse(200, json.dumps({"Item": item} if item else {}).encode())


def failure(status: int, code: str, message: str = "no") -> FakeResponse:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    return FakeResponse(status, json.dumps(body).encode())


def test_the_request_is_the_one_botocore_sends_and_signs() -> None:
    transport = Transport(ok({"original_url": {"S": "https://example.com"}}))
    environ = {**ENV, "AWS_SESSION_TOKEN": "session"}
    client = transport.client(environ, region="eu-west-1")
    params = get_item_params(code="ünï😀")
    assert client.get_item(**params) == {"Item": {"original_url": {"S": "https://example.com"}}}
    [(path, body, headers)] = transport.sent
    serialized = create_serializer("json").serialize_to_request(params, GET_ITEM)
    assert body == serialized["body"]
    assert path == "/"
    assert headers["X-Amz-Target"] == serialized["headers"]["X-Amz-Target"]
    assert headers["Content-Type"] == serialized["headers"]["Content-Type"]
    assert headers["Host"] == "dynamodb.eu-west-1.amazonaws.com"
    at = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    resigned = botocore_signed(
        "https://dynamodb.eu-west-1.amazonaws.com",
        body,
        "eu-west-1",
        Credentials("AKIDEXAMPLE", "secret/with+chars", "session"),
        at,
    )
    assert headers["Authorization"] == resigned.headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "session"


def test_credentials_are_read_again_on_every_request() -> None:
    transport = Transport(ok(), ok(), ok())
    environ = {**ENV, "AWS_SESSION_TOKEN": "first"}
    client = transport.client(environ)
    client.get_item(**get_item_params())
    environ.update(AWS_ACCESS_KEY_ID="AKIDROTATED", AWS_SESSION_TOKEN="second")
    client.get_item(**get_item_params())
    del environ["AWS_SESSION_TOKEN"]
    client.get_item(**get_item_params())
    first, second, third = (headers for _, _, headers in transport.sent)
    assert "Credential=AKIDEXAMPLE/" in first["Authorization"]
    assert first["X-Amz-Security-Token"] == "first"
    assert "Credential=AKIDROTATED/" in second["Authorization"]
    assert second["X-Amz-Security-Token"] == "second"
    assert "X-Amz-Security-Token" not in third
    assert "x-amz-security-token" not in third["Authorization"]


def test_missing_credentials_fail_the_read_not_the_import() -> None:
    client = Transport(ok()).client(environ={})
    with pytest.raises(NoCredentials):
        client.get_item(**get_item_params())


# Limits and retries -----------------------------------------------------------------------


def test_the_redirect_limits() -> None:
    assert dynamodb.CONNECT_TIMEOUT == 0.5
    assert dynamodb.READ_TIMEOUT == 0.8
    assert dynamodb.MAX_ATTEMPTS == 2
    assert dynamodb.RETRY_DELAY_CAP == 0.025


@pytest.mark.parametrize(
    "first",
    [
        failure(500, "InternalServerError"),
        failure(503, "ServiceUnavailable"),
        failure(400, "ProvisionedThroughputExceededException"),
        failure(400, "ThrottlingException"),
        failure(400, "RequestLimitExceeded"),
        FakeResponse(502, b"<html>Bad Gateway</html>"),
        FakeResponse(200, b'{"Item": {}}', crc32="12345"),
        FakeResponse(200, b'{"Item": {}}', crc32="not a number"),
        TimeoutError("timed out"),
        ConnectionResetError("reset"),
        http.client.IncompleteRead(b""),
    ],
)
def test_one_retry_after_a_jittered_pause_on_throttling_5xx_and_lost_answers(first: Any) -> None:
    item = {"original_url": {"S": "https://example.com"}}
    transport = Transport(first, ok(item))
    assert transport.client().get_item(**get_item_params()) == {"Item": item}
    assert len(transport.sent) == 2
    [pause] = transport.pauses
    assert 0 <= pause <= 0.025


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (failure(400, "ValidationException"), "ValidationException"),
        (failure(400, "ResourceNotFoundException"), "ResourceNotFoundException"),
        (failure(400, "UnrecognizedClientException"), "UnrecognizedClientException"),
        (failure(403, "AccessDeniedException"), "AccessDeniedException"),
    ],
)
def test_client_errors_are_not_retried(response: FakeResponse, code: str) -> None:
    transport = Transport(response)
    with pytest.raises(DynamoDBError) as raised:
        transport.client().get_item(**get_item_params())
    assert raised.value.code == code
    assert raised.value.response["Error"]["Code"] == code
    assert len(transport.sent) == 1
    assert transport.pauses == []


def test_two_attempts_then_the_error_is_raised() -> None:
    transport = Transport(failure(500, "InternalServerError"), failure(503, "ServiceUnavailable"))
    with pytest.raises(DynamoDBError) as raised:
        transport.client().get_item(**get_item_params())
    assert (raised.value.code, raised.value.status) == ("ServiceUnavailable", 503)
    assert len(transport.sent) == 2

    transport = Transport(TimeoutError("timed out"), TimeoutError("timed out"))
    with pytest.raises(DynamoDBUnreachable):
        transport.client().get_item(**get_item_params())
    assert len(transport.sent) == 2


def test_one_kept_alive_connection_serves_every_request() -> None:
    transport = Transport(ok(), failure(400, "ValidationException"), ok())
    client = transport.client()
    client.get_item(**get_item_params())
    with pytest.raises(DynamoDBError):
        client.get_item(**get_item_params())
    client.get_item(**get_item_params())
    assert len(transport.connections) == 1
    assert len(transport.sent) == 3


def test_a_dropped_connection_is_replaced_without_spending_the_retry() -> None:
    item = {"original_url": {"S": "https://example.com"}}
    transport = Transport(
        ok(), http.client.RemoteDisconnected("closed"), failure(500, "E"), ok(item)
    )
    client = transport.client()
    client.get_item(**get_item_params())
    # The kept-alive connection was closed meanwhile: sent again on a new one, then the one
    # retry is still there for the 500.
    assert client.get_item(**get_item_params()) == {"Item": item}
    assert len(transport.connections) == 2
    assert len(transport.sent) == 4
    assert len(transport.pauses) == 1


def test_a_connection_the_server_closed_is_not_kept() -> None:
    closing = FakeResponse(200, b"{}", close=True)  # the server said `Connection: close`
    transport = Transport(closing, ok())
    client = transport.client()
    client.get_item(**get_item_params())
    client.get_item(**get_item_params())
    assert len(transport.connections) == 2


# Endpoints ----------------------------------------------------------------------------------


ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({}, "us-east-1"),
        ({}, "ap-southeast-2"),
        ({}, "cn-northwest-1"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, "us-east-1"),
        ({"AWS_ENDPOINT_URL": "http://localhost:4566"}, "eu-west-1"),
        (
            {"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://b:2"},
            "us-east-1",
        ),
        (
            {
                "AWS_ENDPOINT_URL_DYNAMODB": "http://b:2",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
            },
            "eu-west-1",
        ),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "https://ddb.example:443"}, "us-east-1"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "https://ddb.example:8443/"}, "us-east-1"),
    ],
)
def test_the_endpoint_and_host_are_the_ones_boto3_uses(
    environ: dict[str, str], region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    boto = boto3.client("dynamodb", region_name=region)
    client = GetItemClient(region, environ=environ)
    assert client.meta.region_name == boto.meta.region_name == region
    assert client.meta.endpoint_url == boto.meta.endpoint_url
    assert client.host == _host_from_url(boto.meta.endpoint_url)


# Responses ----------------------------------------------------------------------------------

LINK_ITEM = {
    "short_code": {"S": "abc123"},
    "original_url": {"S": "https://example.com/ünï?q=1&r=😀"},
    "created_at": {"S": "2026-01-01T00:00:00Z"},
    "redirect_type": {"N": "301"},
    "status": {"S": "active"},
    "custom_code": {"BOOL": False},
    "owner_id": {"S": "owner-1"},
    "click_count": {"N": "12345678901234567890"},
    "expires_at": {"N": "1790000000"},
}
RESPONSE_CORPUS = [
    b"{}",
    b"",
    json.dumps({"Item": LINK_ITEM}).encode(),
    json.dumps(
        {"Item": {"original_url": {"S": "https://e.x"}, "status": {"S": "disabled"}}}
    ).encode(),
    json.dumps(
        {
            "Item": {
                "b": {"B": base64.b64encode(b"\x00\xffbinary").decode()},
                "bs": {"BS": [base64.b64encode(b"one").decode(), base64.b64encode(b"").decode()]},
                "ss": {"SS": ["a", "ü"]},
                "ns": {"NS": ["1", "-2.5e10"]},
                "null": {"NULL": True},
                "yes": {"BOOL": True},
                "list": {
                    "L": [{"S": "x"}, {"N": "1"}, {"B": base64.b64encode(b"in list").decode()}]
                },
                "map": {
                    "M": {
                        "nested": {"M": {"deep": {"B": base64.b64encode(b"deep").decode()}}},
                        "empty": {"M": {}},
                    }
                },
                "empty_list": {"L": []},
            }
        }
    ).encode(),
    b'{"Item":{"original_url":{"S":"https://\\u00e9x.example/\\ud83d\\ude00"}}}',
]


@pytest.mark.parametrize("raw", RESPONSE_CORPUS)
def test_responses_read_as_botocore_reads_them(raw: bytes) -> None:
    parser = parsers.create_parser("json")
    theirs = parser.parse({"status_code": 200, "headers": {}, "body": raw}, GET_ITEM.output_shape)
    theirs.pop("ResponseMetadata", None)
    assert parse_get_item(200, raw) == theirs


ERROR_CORPUS = [
    (
        400,
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
        b'"message":"Requested resource not found"}',
    ),
    (
        400,
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException",'
        b"\"message\":\"1 validation error detected: Value '' at 'tableName' failed\"}",
    ),
    (
        400,
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
        b'"message":"The level of configured provisioned throughput for the table was exceeded."}',
    ),
    (
        400,
        b'{"__type":"com.amazon.coral.service#UnrecognizedClientException",'
        b'"message":"The security token included in the request is invalid."}',
    ),
    (400, b'{"__type":"com.amazon.coral.validate#ValidationException","Message":"capital M"}'),
    (403, b'{"__type":"AccessDeniedException:http://internal.amazon.com/","Message":"denied"}'),
    (
        500,
        b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
        b'"message":"Internal server error"}',
    ),
    (503, b""),
    (502, b"<html><body>Bad Gateway</body></html>"),
    (413, b'{"message":"Request too large"}'),
]


@pytest.mark.parametrize(("status", "raw"), ERROR_CORPUS)
def test_errors_carry_botocores_code_and_message(status: int, raw: bytes) -> None:
    parser = parsers.create_parser("json")
    theirs = parser.parse(
        {"status_code": status, "headers": {}, "body": raw}, GET_ITEM.output_shape
    )["Error"]
    ours = error_from(status, raw)
    assert (ours.code, ours.message) == (theirs["Code"], theirs["Message"])
    with pytest.raises(DynamoDBError):
        parse_get_item(status, raw)


def test_a_success_that_is_not_json_is_a_failed_read_not_a_missing_link() -> None:
    with pytest.raises(DynamoDBUnreachable):
        parse_get_item(200, b"<html>captive portal</html>")


# Against moto's server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_table(moto_endpoint: str) -> Iterator[tuple[Any, GetItemClient, str]]:
    boto = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    name = "squrl-urls-lean"
    boto.create_table(**table.create_table_request(name))
    environ = {**ENV, "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint}
    lean = GetItemClient("us-east-1", environ=environ)
    try:
        yield boto, lean, name
    finally:
        lean.close()
        boto.delete_table(TableName=name)


def test_against_moto_it_returns_what_boto3_returns(moto_table: tuple[Any, Any, str]) -> None:
    boto, lean, name = moto_table
    every_type = {
        "short_code": {"S": "types1"},
        "original_url": {"S": "https://example.com/ü"},
        "b": {"B": b"\x00\x01binary"},
        "bs": {"BS": [b"one", b"two"]},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "null": {"NULL": True},
        "flag": {"BOOL": True},
        "list": {"L": [{"S": "x"}, {"B": b"y"}]},
        "map": {"M": {"k": {"N": "7"}, "inner": {"M": {"b": {"B": b"z"}}}}},
    }
    boto.put_item(TableName=name, Item=LINK_ITEM)
    boto.put_item(TableName=name, Item=every_type)
    for code in ("abc123", "types1", "missing"):
        for params in (
            get_item_params(name, code),
            {"TableName": name, "Key": {"short_code": {"S": code}}, "ConsistentRead": True},
        ):
            expected = boto.get_item(**params)
            expected.pop("ResponseMetadata")
            assert lean.get_item(**params) == expected
    link = fetch_link(lean, name, "abc123")
    assert link == fetch_link(boto, name, "abc123")
    assert link is not None and link.redirect_type == 301
    assert fetch_link(lean, name, "missing") is None


def test_against_moto_errors_match_boto3s(moto_table: tuple[Any, Any, str]) -> None:
    boto, lean, _ = moto_table
    params = get_item_params("no-such-table")
    with pytest.raises(ClientError) as expected:
        boto.get_item(**params)
    with pytest.raises(DynamoDBError) as raised:
        lean.get_item(**params)
    assert raised.value.response["Error"] == {
        "Code": expected.value.response["Error"]["Code"],
        "Message": expected.value.response["Error"]["Message"],
    }
    assert raised.value.code == "ResourceNotFoundException"


# Real sockets -------------------------------------------------------------------------------


class _DropsEveryConnection(BaseHTTPRequestHandler):
    """Answers one request per connection, then closes it without saying so."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"Item": {"original_url": {"S": "https://example.com"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


def test_a_kept_alive_connection_the_server_dropped_is_reopened() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DropsEveryConnection)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    pauses: list[float] = []
    environ = {**ENV, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{server.server_port}"}
    client = GetItemClient("us-east-1", environ=environ, sleep=pauses.append)
    try:
        for _ in range(3):
            assert "Item" in client.get_item(**get_item_params())
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert _DropsEveryConnection.connections == 3
    assert pauses == []  # no retry was spent on the dropped connections


def test_a_silent_server_times_out_twice_then_fails() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts into its backlog, never answers
    environ = {**ENV, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{listener.getsockname()[1]}"}
    pauses: list[float] = []
    client = GetItemClient(
        "us-east-1", environ=environ, sleep=pauses.append, connect_timeout=0.5, read_timeout=0.05
    )
    try:
        with pytest.raises(DynamoDBUnreachable, match="TimeoutError"):
            client.get_item(**get_item_params())
    finally:
        listener.close()
    assert len(pauses) == 1


def test_a_refused_connection_fails_after_two_attempts() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    environ = {**ENV, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}"}
    pauses: list[float] = []
    client = GetItemClient("us-east-1", environ=environ, sleep=pauses.append)
    with pytest.raises(DynamoDBUnreachable, match="ConnectionRefusedError"):
        client.get_item(**get_item_params())
    assert len(pauses) == 1


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    """A certificate for `localhost` and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class _Answers(_DropsEveryConnection):
    """Keeps its connections open."""

    def do_POST(self) -> None:
        super().do_POST()
        self.close_connection = False


@pytest.fixture
def tls_endpoint(tmp_path: Any) -> Iterator[tuple[str, str]]:
    cert, key = _self_signed(tmp_path)
    _Answers.connections = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_port}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_https_verifies_the_server_against_the_ca_bundle(tls_endpoint: tuple[str, str]) -> None:
    url, cert = tls_endpoint
    environ = {**ENV, "AWS_ENDPOINT_URL_DYNAMODB": url, "AWS_CA_BUNDLE": cert}
    client = GetItemClient("us-east-1", environ=environ)
    try:
        for _ in range(3):
            assert "Item" in client.get_item(**get_item_params())
    finally:
        client.close()
    assert _Answers.connections == 1  # one TLS handshake, then the kept-alive connection

    pauses: list[float] = []
    untrusted = GetItemClient(
        "us-east-1", environ={**ENV, "AWS_ENDPOINT_URL_DYNAMODB": url}, sleep=pauses.append
    )
    with pytest.raises(DynamoDBUnreachable, match="SSLCertVerificationError"):
        untrusted.get_item(**get_item_params())
    assert len(pauses) == 1

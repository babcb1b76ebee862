"""A small DynamoDB GetItem client for the two redirect paths, standard library only.

boto3 is the redirect's whole cold start (docs/design.md, "The lean reader"), and the redirect
makes one call: a projected GetItem. This client makes exactly that call, the way botocore does:

- the same request: `POST /` with the JSON body botocore serializes (`json.dumps` of the
  parameters, in the caller's order) and `X-Amz-Target: DynamoDB_20120810.GetItem`;
- signed with SigV4 as botocore's SigV4Auth signs it (tests/unit/test_dynamodb_reader.py checks the
  Authorization header byte for byte), with credentials read from the environment on every
  request, so keys Lambda rotates, or a restored snapshot's new ones, are used at once; the
  derived signing key is cached per (secret, date, region, service);
- over one kept-alive connection: HTTPS to `dynamodb.{region}.amazonaws.com`, or the endpoint in
  `AWS_ENDPOINT_URL_DYNAMODB` (plain HTTP too, as the local server's emulator);
- with the redirect's tight limits: 0.5 s to connect (TLS included), 0.8 s to read, 2 attempts;
  throttling, 5xx, timeouts, dropped connections and a failed `x-amz-crc32` check are retried
  once after a jittered pause, a 4xx such as a validation error is not;
- answering as boto3 answers: `{"Item": {...}}` with binary values decoded, or `{}`; DynamoDB's
  errors raise DynamoDBError (code and message as botocore's ClientError), a read that got no
  answer raises DynamoDBUnreachable. The edge handler forwards to the origin on any exception;
  the regional one lets it become a 5xx.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from shared.redirect.trust import AMAZON_TRUST_SERVICES_ROOTS

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 0.8
MAX_ATTEMPTS = 2
# Full jitter up to botocore's DynamoDB base delay. botocore waits up to 1 s after throttling;
# a redirect does better to fail fast and let the origin group (or the edge's origin) answer.
RETRY_DELAY_CAP = 0.025

SERVICE = "dynamodb"
TARGET = "DynamoDB_20120810.GetItem"
CONTENT_TYPE = "application/x-amz-json-1.0"
# botocore's throttling and transient codes (retries/standard.py); any 5xx is retried too.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class DynamoDBError(Exception):
    """DynamoDB refused the request; `response` has the shape of botocore's ClientError's."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(f"{code} ({status}): {message}")
        self.code, self.message, self.status = code, message, status
        self.response = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.status == 429 or self.code in THROTTLING_CODES


class DynamoDBUnreachable(Exception):
    """No usable answer: refused, reset or timed out, a TLS failure, or a corrupted body."""


class NoCredentials(Exception):
    """The environment holds no AWS credentials."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


@dataclass(frozen=True)
class ClientMeta:
    """The two facts about a client callers ask boto3's `client.meta` for."""

    region_name: str
    endpoint_url: str


class Connection(Protocol):
    """The part of http.client.HTTPConnection the client uses (tests pass fakes)."""

    sock: Any

    def request(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> None: ...
    def getresponse(self) -> http.client.HTTPResponse: ...
    def close(self) -> None: ...


def tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """Verifies DynamoDB's certificates against Amazon Trust Services' roots, or against
    AWS_CA_BUNDLE's where it is set; hostname checking and TLS 1.2+ as the default context."""
    bundle = environ.get("AWS_CA_BUNDLE")
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    return ssl.create_default_context(cadata="".join(AMAZON_TRUST_SERVICES_ROOTS))


def environment_credentials(environ: Mapping[str, str]) -> Credentials:
    """Lambda's credentials, as botocore's environment provider reads them."""
    try:
        access_key, secret_key = environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"]
    except KeyError:
        raise NoCredentials("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set") from None
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN")
    return Credentials(access_key, secret_key, token)


def endpoint_url(region: str, environ: Mapping[str, str]) -> str:
    """The endpoint boto3 would use: a configured one (local emulator), else the regional one."""
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        configured = environ.get("AWS_ENDPOINT_URL_DYNAMODB") or environ.get("AWS_ENDPOINT_URL")
        if configured:
            return configured
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://dynamodb.{region}.{suffix}"


@functools.lru_cache(maxsize=4)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def sign(
    body: bytes, *, host: str, path: str, region: str, credentials: Credentials, amz_date: str
) -> dict[str, str]:
    """The headers of a DynamoDB JSON request, signed as botocore's SigV4Auth signs them."""
    headers = {"Content-Type": CONTENT_TYPE, "Host": host, "X-Amz-Date": amz_date}
    # Lowercased names in sorted order; values trimmed as SigV4 asks (only the token could
    # hold spaces: the others are constants or come from the endpoint URL and the clock).
    canonical_headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n"
    names = "content-type;host;x-amz-date;x-amz-target"
    if credentials.token:
        headers["X-Amz-Security-Token"] = credentials.token
        canonical_headers += f"x-amz-security-token:{' '.join(credentials.token.split())}\n"
        names = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    headers["X-Amz-Target"] = TARGET
    canonical_headers += f"x-amz-target:{TARGET}\n"
    canonical_request = (
        f"POST\n{path}\n\n{canonical_headers}\n{names}\n{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
        f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    )
    key = signing_key(credentials.secret_key, amz_date[:8], region, SERVICE)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return headers


def parse_get_item(status: int, payload: bytes) -> dict[str, Any]:
    """A GetItem response as boto3 returns it (without ResponseMetadata), or DynamoDBError."""
    if status >= 300:
        raise error_from(status, payload)
    try:
        body = json.loads(payload) if payload else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        # botocore would read this as "no item"; a redirect must not cache a 404 for it.
        raise DynamoDBUnreachable(f"GetItem answered {status} with a body that is not an object")
    item = body.get("Item")
    if item is None:
        return {}
    return {"Item": {name: _attribute(value) for name, value in item.items()}}


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """botocore's parse of one AttributeValue: binary values base64-decoded, the rest as sent."""
    if "B" in value:
        return {"B": base64.b64decode(value["B"])}
    if "BS" in value:
        return {"BS": [base64.b64decode(member) for member in value["BS"]]}
    if "M" in value:
        return {"M": {name: _attribute(member) for name, member in value["M"].items()}}
    if "L" in value:
        return {"L": [_attribute(member) for member in value["L"]]}
    return value


def error_from(status: int, payload: bytes) -> DynamoDBError:
    """The error code and message botocore's JSON parser reads from an error response."""
    if status >= 500 and (not payload.strip() or payload.strip().startswith(b"<html>")):
        # A load balancer's or proxy's page, not DynamoDB's: botocore names it by its status.
        return DynamoDBError(str(status), http.client.responses.get(status, ""), status)
    text = payload.decode("utf-8", "replace")
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = {"message": text}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("__type", status)).split(":", 1)[0].rsplit("#", 1)[-1]
    message = body.get("message", body.get("Message", ""))
    return DynamoDBError(code, "" if message is None else str(message), status)


class GetItemClient:
    """`get_item` for one region's table replica, over one kept-alive connection.

    Safe to share between threads (the local server calls handlers from several): each call
    takes the idle connection or opens its own, and puts one back when done.
    """

    def __init__(
        self,
        region: str,
        *,
        environ: Mapping[str, str] = os.environ,
        connection_factory: Callable[[], Connection] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ):
        self.region = region
        self.environ = environ
        url = endpoint_url(region, environ)
        self.meta = ClientMeta(region, url)
        parts = urlsplit(url)
        self._secure = parts.scheme == "https"
        self._hostname = parts.hostname or ""
        self._port = parts.port
        default_port = 443 if self._secure else 80
        netloc = self._hostname if ":" not in self._hostname else f"[{self._hostname}]"
        self.host = netloc if parts.port in (None, default_port) else f"{netloc}:{parts.port}"
        self.path = quote(parts.path or "/", safe="/~")
        self._connect = connection_factory or self._open
        self._sleep = sleep
        self._timeouts = (connect_timeout, read_timeout)
        self._idle: list[Connection] = []
        # The roots DynamoDB's endpoints chain to (shared/redirect/trust.py), or AWS_CA_BUNDLE's
        # as botocore would: five certificates instead of the system store, which took tens of
        # milliseconds of the cold start. Done here, during Lambda's init.
        self._tls: ssl.SSLContext | None = None
        if self._secure and connection_factory is None:
            self._tls = tls_context(environ)

    def get_item(
        self,
        *,
        TableName: str,
        Key: Mapping[str, Any],
        ProjectionExpression: str | None = None,
        ExpressionAttributeNames: Mapping[str, str] | None = None,
        ConsistentRead: bool | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"TableName": TableName, "Key": Key}
        if ProjectionExpression is not None:
            params["ProjectionExpression"] = ProjectionExpression
        if ExpressionAttributeNames is not None:
            params["ExpressionAttributeNames"] = ExpressionAttributeNames
        if ConsistentRead is not None:
            params["ConsistentRead"] = ConsistentRead
        body = json.dumps(params).encode()
        for _ in range(MAX_ATTEMPTS - 1):
            try:
                return parse_get_item(*self._round_trip(body))
            except DynamoDBError as error:
                if not error.retryable:
                    raise
            except DynamoDBUnreachable:
                pass
            self._sleep(random.uniform(0, RETRY_DELAY_CAP))
        return parse_get_item(*self._round_trip(body))

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _round_trip(self, body: bytes) -> tuple[int, bytes]:
        """One signed request and its response. A kept-alive connection the server has closed
        meanwhile (idle too long, or a Lambda frozen between requests) fails on first use; the
        read is idempotent, so it goes once more on a new connection, not counted as a retry."""
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers = sign(
            body,
            host=self.host,
            path=self.path,
            region=self.region,
            credentials=environment_credentials(self.environ),
            amz_date=amz_date,
        )
        try:
            connection = self._idle.pop()
        except IndexError:
            return self._exchange(self._new_connection(), body, headers)
        try:
            return self._exchange(connection, body, headers, stale_ok=True)
        except _Stale:
            return self._exchange(self._new_connection(), body, headers)

    def _exchange(
        self, connection: Connection, body: bytes, headers: dict[str, str], stale_ok: bool = False
    ) -> tuple[int, bytes]:
        try:
            connection.request("POST", self.path, body, headers)
            response = connection.getresponse()
            payload = response.read()
            checksum = response.getheader("x-amz-crc32")
        except (ConnectionError, ssl.SSLEOFError) as error:
            connection.close()
            if stale_ok:
                raise _Stale from error
            raise DynamoDBUnreachable(f"{type(error).__name__}: {error}") from error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise DynamoDBUnreachable(f"{type(error).__name__}: {error}") from error
        if checksum is not None and (
            not checksum.isdigit() or zlib.crc32(payload) != int(checksum)
        ):
            connection.close()
            raise DynamoDBUnreachable("the response body does not match its x-amz-crc32")
        # A connection the server asked to close has no socket left; it is not kept.
        if connection.sock is not None and not self._idle:
            self._idle.append(connection)
        else:
            connection.close()
        return response.status, payload

    def _new_connection(self) -> Connection:
        try:
            return self._connect()
        except OSError as error:
            raise DynamoDBUnreachable(f"{type(error).__name__}: {error}") from error

    def _open(self) -> http.client.HTTPConnection:
        """A connected socket: DNS, TCP and TLS within the connect timeout, then the read one."""
        connect_timeout, read_timeout = self._timeouts
        connection: http.client.HTTPConnection
        if self._secure:
            connection = http.client.HTTPSConnection(
                self._hostname, self._port, timeout=connect_timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(
                self._hostname, self._port, timeout=connect_timeout
            )
        try:
            connection.connect()
            connection.sock.settimeout(read_timeout)
            connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        except OSError:
            connection.close()
            raise
        return connection


class _Stale(Exception):
    """A kept-alive connection turned out closed before any answer came back."""

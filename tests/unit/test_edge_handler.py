"""The Lambda@Edge redirect against moto, through CloudFront origin-request/response events.

The edge must answer exactly as the regional handler does (docs/api.md section 2), headers included;
404/410 come in the format x-squrl-format names (the cache key's header, set from Accept by the
viewer-request function), and answers served from the function's memory add `Age`.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import time
import types
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError

from functions.edge_redirect import handler as edge_module
from functions.redirect import handler as redirect_module
from shared.contracts.http import FAILOVER, FORMAT_HEADER, ORIGIN_ROLE_HEADER
from shared.redirect.core import Redirector
from shared.redirect.edge_cache import LookupCache
from shared.redirect.edge_config import BUNDLE_MODULE, EdgeBundleConfig, render_module
from tests.unit.events import context, event

TABLE = "squrl-urls-test"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def origin_request(
    uri: str,
    method: str = "GET",
    accept: str | None = None,
    role: str | None = None,
    fmt: str | None = None,
) -> dict[str, Any]:
    """An origin-request event as CloudFront sends it (Lambda@Edge event structure)."""
    headers: dict[str, list[dict[str, str]]] = {
        "host": [{"key": "Host", "value": "abc123.execute-api.us-east-1.amazonaws.com"}],
        "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
        "via": [{"key": "Via", "value": "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net"}],
        "x-forwarded-for": [{"key": "X-Forwarded-For", "value": "203.0.113.178"}],
    }
    if accept is not None:
        headers["accept"] = [{"key": "Accept", "value": accept}]
    if fmt is not None:
        headers[FORMAT_HEADER] = [{"key": FORMAT_HEADER, "value": fmt}]
    custom_headers = {}
    if role is not None:
        custom_headers[ORIGIN_ROLE_HEADER] = [{"key": ORIGIN_ROLE_HEADER, "value": role}]
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "origin-request",
                        "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                    },
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": headers,
                        "method": method,
                        "origin": {
                            "custom": {
                                "customHeaders": custom_headers,
                                "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                                "keepaliveTimeout": 5,
                                "path": "/live",
                                "port": 443,
                                "protocol": "https",
                                "readTimeout": 10,
                                "sslProtocols": ["TLSv1.2"],
                            }
                        },
                        "querystring": "",
                        "uri": uri,
                    },
                }
            }
        ]
    }


def origin_response(status: int, headers: dict[str, str]) -> dict[str, Any]:
    request = origin_request("/abc123")["Records"][0]["cf"]["request"]
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "origin-response",
                        "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                    },
                    "request": request,
                    "response": {
                        "status": str(status),
                        "statusDescription": "",
                        "headers": {
                            k.lower(): [{"key": k, "value": v}] for k, v in headers.items()
                        },
                    },
                }
            }
        ]
    }


def flat_headers(response: dict[str, Any]) -> dict[str, str]:
    return {values[0]["key"]: values[0]["value"] for values in response["headers"].values()}


class CountingClient:
    """The moto client, counting GetItem calls (and optionally failing them)."""

    def __init__(self, client: Any, error: Exception | None = None):
        self.client, self.error, self.reads = client, error, 0

    def get_item(self, **kwargs: Any) -> Any:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.client.get_item(**kwargs)


def put_link(
    dynamodb: Any,
    code: str,
    url: str = "https://example.com/a?b=c",
    redirect_type: int = 301,
    status: str = "active",
    expires_at: float | None = None,
) -> None:
    item = {
        "short_code": {"S": code},
        "original_url": {"S": url},
        "created_at": {"S": "2026-01-01T00:00:00Z"},
        "redirect_type": {"N": str(redirect_type)},
        "status": {"S": status},
        "custom_code": {"BOOL": False},
        "owner_id": {"S": "owner-1"},
        "click_count": {"N": "0"},
    }
    if expires_at is not None:
        item["expires_at"] = {"N": str(int(expires_at))}
    dynamodb.put_item(TableName=TABLE, Item=item)


@pytest.fixture
def reads(dynamodb: Any) -> CountingClient:
    return CountingClient(dynamodb)


@pytest.fixture
def edge(reads: CountingClient) -> Redirector:
    return Redirector(reads, TABLE, LookupCache(max_entries=16, ttl=30))


@pytest.fixture(autouse=True)
def regional_client(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)


def regional(code: str, method: str = "GET", accept: str | None = None) -> dict[str, Any]:
    headers = {"Accept": accept} if accept else {}
    return redirect_module.handler(event(method, f"/{code}", headers=headers), context())


# Redirects: the regional handler's answer, byte for byte ------------------------------------


@pytest.mark.parametrize("redirect_type", [301, 302, 307, 308])
def test_redirects_match_the_regional_handler(
    dynamodb: Any, edge: Redirector, redirect_type: int
) -> None:
    put_link(dynamodb, f"r{redirect_type}", "https://example.com/x?y=%20z#f", redirect_type)
    response = edge_module.handle(origin_request(f"/r{redirect_type}"), edge)
    expected = regional(f"r{redirect_type}")

    assert response["status"] == str(redirect_type)
    assert int(response["status"]) == expected["statusCode"]
    assert flat_headers(response) == expected["headers"]
    assert flat_headers(response)["Location"] == "https://example.com/x?y=%20z#f"
    assert flat_headers(response)["X-Short-Code"] == f"r{redirect_type}"
    assert "body" not in response and expected["body"] == ""


@pytest.mark.parametrize(
    ("redirect_type", "cache_control"),
    [
        (301, "public, max-age=3600"),
        (308, "public, max-age=3600"),
        (302, "public, max-age=0, s-maxage=60"),
        (307, "public, max-age=0, s-maxage=60"),
    ],
)
def test_cache_headers(
    dynamodb: Any, edge: Redirector, redirect_type: int, cache_control: str
) -> None:
    put_link(dynamodb, "cached", redirect_type=redirect_type)
    response = edge_module.handle(origin_request("/cached"), edge)
    assert flat_headers(response)["Cache-Control"] == cache_control


def test_cache_lifetime_never_outlives_the_links_expiry(
    dynamodb: Any, edge: Redirector, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.25
    monkeypatch.setattr(edge_module, "time", types.SimpleNamespace(time=lambda: now))
    put_link(dynamodb, "soon301", redirect_type=301, expires_at=now + 120)
    put_link(dynamodb, "soon302", redirect_type=302, expires_at=now + 20)
    permanent = flat_headers(edge_module.handle(origin_request("/soon301"), edge))
    temporary = flat_headers(edge_module.handle(origin_request("/soon302"), edge))
    # expires_at is stored in whole seconds (int(now + 120)): 119.75 s remain, counted down.
    assert permanent["Cache-Control"] == "public, max-age=119"
    assert temporary["Cache-Control"] == "public, max-age=0, s-maxage=19"


def test_head_has_the_headers_and_no_body(dynamodb: Any, edge: Redirector) -> None:
    response = edge_module.handle(origin_request("/nope", method="HEAD", accept=BROWSER), edge)
    assert response["status"] == "404"
    assert "body" not in response
    assert flat_headers(response)["Content-Type"] == "text/html; charset=utf-8"


def test_percent_encoded_path_is_decoded_like_api_gateway(dynamodb: Any, edge: Redirector) -> None:
    put_link(dynamodb, "a_b-c")
    assert edge_module.handle(origin_request("/a%5Fb-c"), edge)["status"] == "301"


# 404 and 410 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", BROWSER])
def test_unknown_code_is_the_regional_404(
    dynamodb: Any, edge: Redirector, accept: str | None
) -> None:
    response = edge_module.handle(origin_request("/unknown1", accept=accept), edge)
    expected = regional("unknown1", accept=accept)

    assert response["status"] == "404" and expected["statusCode"] == 404
    assert response["body"] == expected["body"]
    assert flat_headers(response) == expected["headers"]
    assert flat_headers(response)["Cache-Control"] == "public, max-age=60"
    assert flat_headers(response)["Vary"] == "Accept"


@pytest.mark.parametrize(
    ("fmt", "accept"),
    [("html", BROWSER), ("json", None), ("json", "*/*"), ("json", "application/json")],
)
def test_the_cache_keys_format_header_picks_the_404_format(
    dynamodb: Any, edge: Redirector, fmt: str, accept: str | None
) -> None:
    # Whatever Accept reaches the function, the body is the one its cache key names, and it is
    # the regional answer for the Accept the viewer function reduced to that format.
    other = "application/json" if fmt == "html" else BROWSER
    response = edge_module.handle(origin_request("/unknown2", accept=other, fmt=fmt), edge)
    expected = regional("unknown2", accept=accept)
    assert response["body"] == expected["body"]
    assert flat_headers(response) == expected["headers"]


def test_an_unknown_format_value_falls_back_to_accept(dynamodb: Any, edge: Redirector) -> None:
    response = edge_module.handle(origin_request("/unknown3", accept=BROWSER, fmt="xml"), edge)
    assert response["body"].startswith("<!doctype html>")


def test_negotiation_html_for_browsers_json_otherwise(dynamodb: Any, edge: Redirector) -> None:
    html = edge_module.handle(origin_request("/missing", accept=BROWSER), edge)
    api = edge_module.handle(origin_request("/missing", accept="application/json"), edge)
    assert html["body"].startswith("<!doctype html>")
    assert json.loads(api["body"]) == {
        "error": "NotFound",
        "message": "No link has this short code.",
        "details": None,
    }


@pytest.mark.parametrize("uri", ["/", "/has space", "/a/b", "/" + "x" * 21, "/%F0%9F%98%80"])
def test_impossible_codes_are_404_without_a_read(
    edge: Redirector, reads: CountingClient, uri: str
) -> None:
    response = edge_module.handle(origin_request(uri), edge)
    assert response["status"] == "404"
    assert reads.reads == 0


def test_expired_link_is_410_even_before_dynamodb_ttl_deletes_it(
    dynamodb: Any, edge: Redirector
) -> None:
    put_link(dynamodb, "expired1", expires_at=time.time() - 1)
    response = edge_module.handle(origin_request("/expired1"), edge)
    expected = regional("expired1")
    assert response["status"] == "410" and expected["statusCode"] == 410
    assert json.loads(response["body"])["message"] == "This link has expired."
    assert response["body"] == expected["body"]
    assert flat_headers(response) == expected["headers"]
    assert flat_headers(response)["Cache-Control"] == "public, max-age=60"


def test_disabled_link_is_410(dynamodb: Any, edge: Redirector) -> None:
    put_link(dynamodb, "disabled1", status="disabled")
    response = edge_module.handle(origin_request("/disabled1", accept=BROWSER), edge)
    assert response["status"] == "410"
    assert "This link was disabled." in response["body"]


# The in-memory cache ---------------------------------------------------------------------------


def test_repeat_lookups_within_the_memory_ttl_read_once(
    dynamodb: Any, edge: Redirector, reads: CountingClient
) -> None:
    put_link(dynamodb, "hot1")
    for _ in range(5):
        assert edge_module.handle(origin_request("/hot1"), edge)["status"] == "301"
        assert edge_module.handle(origin_request("/cold404"), edge)["status"] == "404"
    assert reads.reads == 2


def test_answers_from_memory_keep_the_spec_headers_and_add_age(
    dynamodb: Any, edge: Redirector
) -> None:
    put_link(dynamodb, "perm1", redirect_type=301)
    put_link(dynamodb, "temp1", redirect_type=302)
    now = time.time()
    fresh = {code: edge.answer(code, now, None) for code in ("perm1", "temp1", "gone404")}
    assert all("Age" not in answer.headers for answer in fresh.values())
    later = now + 10
    for code, cache_control in (
        ("perm1", "public, max-age=3600"),
        ("temp1", "public, max-age=0, s-maxage=60"),
        ("gone404", "public, max-age=60"),
    ):
        remembered = edge.answer(code, later, None)
        assert remembered.headers["Cache-Control"] == cache_control
        assert remembered.headers["Age"] == "10"
        assert {k: v for k, v in remembered.headers.items() if k != "Age"} == fresh[code].headers
    # A fraction of a second counts as a whole one: Age errs towards older.
    assert edge.answer("perm1", now + 0.2, None).headers["Age"] == "1"


def test_a_memory_hit_through_the_handler_carries_age(
    dynamodb: Any, edge: Redirector, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_800_000_000.0]
    monkeypatch.setattr(edge_module, "time", types.SimpleNamespace(time=lambda: clock[0]))
    put_link(dynamodb, "hot2", redirect_type=302)
    first = flat_headers(edge_module.handle(origin_request("/hot2"), edge))
    second = flat_headers(edge_module.handle(origin_request("/hot2"), edge))
    clock[0] += 7
    third = flat_headers(edge_module.handle(origin_request("/hot2"), edge))
    assert "Age" not in first
    assert second["Cache-Control"] == first["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert third["Cache-Control"] == first["Cache-Control"]
    assert (second["Age"], third["Age"]) == ("0", "7")


def test_an_update_is_seen_once_the_memory_ttl_has_passed(
    dynamodb: Any, edge: Redirector, reads: CountingClient
) -> None:
    put_link(dynamodb, "moving1", "https://old.example/", redirect_type=302)
    now = time.time()
    assert edge.answer("moving1", now, None).headers["Location"] == "https://old.example/"
    put_link(dynamodb, "moving1", "https://old.example/", redirect_type=302, status="disabled")
    # Within the memory lifetime the old answer stands, saying how old it is, so that memory
    # plus the caches downstream hold it no longer than the spec's 60 seconds from the read.
    stale = edge.answer("moving1", now + 29, None)
    assert stale.status == 302
    assert stale.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert stale.headers["Age"] == "29"
    assert edge.answer("moving1", now + 30, None).status == 410
    assert reads.reads == 2


def test_memory_never_answers_past_the_links_expiry(
    dynamodb: Any, edge: Redirector, reads: CountingClient
) -> None:
    now = time.time()
    put_link(dynamodb, "brief1", redirect_type=301, expires_at=now + 5)
    assert edge.answer("brief1", now, None).status == 301
    # At expiry the remembered lookup is dropped and the link's own state decides: gone.
    assert edge.answer("brief1", now + 5, None).status == 410
    assert reads.reads == 2


def test_memory_is_bounded_least_recently_used_first(dynamodb: Any, reads: CountingClient) -> None:
    edge = Redirector(reads, TABLE, LookupCache(max_entries=3, ttl=30))
    now = time.time()
    for code in ("aaa", "bbb", "ccc"):
        edge.answer(code, now, None)
    edge.answer("aaa", now, None)  # most recently used now
    edge.answer("ddd", now, None)  # evicts bbb, the least recently used
    assert len(edge.cache) == 3
    reads.reads = 0
    edge.answer("aaa", now, None)
    edge.answer("bbb", now, None)
    assert reads.reads == 1


# Fallback to the origin group ------------------------------------------------------------------


def test_a_failed_read_hands_the_request_to_the_origin(dynamodb: Any) -> None:
    failing = CountingClient(dynamodb, ConnectTimeoutError(endpoint_url="https://dynamodb"))
    edge = Redirector(failing, TABLE, LookupCache())
    request_event = origin_request("/abc123", accept=BROWSER + ";q=0.5", fmt="html")
    expected_request = copy.deepcopy(request_event["Records"][0]["cf"]["request"])
    # The origin is asked for the format of the cache key, in an Accept it reads the same way.
    expected_request["headers"]["accept"] = [{"key": "Accept", "value": "text/html"}]

    result = edge_module.handle(request_event, edge)

    assert result == expected_request
    assert failing.reads == 1
    # Nothing about the failure was remembered: the next request reads again.
    assert len(edge.cache) == 0


def test_the_failover_origin_is_reached_without_a_second_read(
    edge: Redirector, reads: CountingClient
) -> None:
    request_event = origin_request("/abc123", role=FAILOVER, accept=BROWSER)
    result = edge_module.handle(request_event, edge)
    assert result["uri"] == "/abc123" and "status" not in result
    assert flat_headers(result)["Accept"] == "text/html"
    assert reads.reads == 0


def test_health_goes_to_the_regional_api(edge: Redirector, reads: CountingClient) -> None:
    result = edge_module.handle(origin_request("/health"), edge)
    assert result["uri"] == "/health" and "status" not in result
    assert reads.reads == 0


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (404, {"Cache-Control": "public, max-age=60", "Vary": "Accept"}),
        (301, {"Cache-Control": "public, max-age=3600", "Location": "https://example.com/"}),
    ],
)
def test_an_origin_response_event_passes_through_unchanged(
    edge: Redirector, reads: CountingClient, status: int, headers: dict[str, str]
) -> None:
    # Only origin request is associated now; an origin-response event changes nothing.
    event = origin_response(status, headers)
    expected = copy.deepcopy(event["Records"][0]["cf"]["response"])
    assert edge_module.handle(event, edge) == expected
    assert reads.reads == 0


# Region choice: the bundle's map, read at init -------------------------------------------------


def bundle_module(config: EdgeBundleConfig) -> types.ModuleType:
    module = types.ModuleType(BUNDLE_MODULE)
    exec(compile(render_module(config), "bundle_config.py", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize(
    ("running_in", "reads_from"),
    [
        ("us-east-1", "us-east-1"),
        ("eu-west-1", "eu-west-1"),
        ("eu-central-1", "eu-west-1"),
        ("eu-west-2", "eu-west-1"),
        ("ap-northeast-1", "ap-southeast-1"),
        ("ap-south-1", "ap-southeast-1"),
        ("ap-southeast-2", "ap-southeast-1"),
        ("us-west-2", "us-east-1"),
        ("sa-east-1", "us-east-1"),
        ("me-south-1", "eu-west-1"),
        ("xx-nowhere-9", "us-east-1"),
    ],
)
def test_the_handler_reads_the_replica_nearest_to_where_it_runs(
    monkeypatch: pytest.MonkeyPatch, running_in: str, reads_from: str
) -> None:
    from shared.redirect.edge_regions import nearest_replica_map

    serving = ("us-east-1", "eu-west-1", "ap-southeast-1")
    rendered = EdgeBundleConfig(
        "squrl-urls-prod", "us-east-1", serving, nearest_replica_map(serving)
    )
    monkeypatch.setitem(sys.modules, BUNDLE_MODULE, bundle_module(rendered))
    monkeypatch.setenv("AWS_REGION", running_in)
    try:
        reloaded = importlib.reload(edge_module)
        assert reloaded.config == rendered
        assert reloaded.read_region == reads_from
        assert reloaded.client.meta.region_name == reads_from
        assert reloaded.redirector.table_name == "squrl-urls-prod"
    finally:
        monkeypatch.undo()
        importlib.reload(edge_module)


def test_without_a_bundle_module_the_environment_configures_the_handler() -> None:
    assert BUNDLE_MODULE not in sys.modules
    assert edge_module.config.table_name == TABLE
    assert edge_module.config.serving_regions == ("us-east-1",)
    assert edge_module.read_region == "us-east-1"

"""The local server's edge path: CloudFront's origin-request flow in front of the local gateway."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from devserver.edge import Front, LocalCloudFront, edge_target, lifetime, viewer_request
from devserver.environments import Environments
from devserver.gateway import Gateway
from functions.edge_redirect import handler as edge_module
from functions.redirect import handler as redirect_module
from shared.redirect.core import Redirector
from shared.redirect.edge_cache import LookupCache
from tests.unit.test_edge_handler import TABLE, CountingClient, put_link

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def edge_reads(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> CountingClient:
    reads = CountingClient(dynamodb)
    monkeypatch.setattr(edge_module, "redirector", Redirector(reads, TABLE, LookupCache()))
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)
    return reads


def local_host(mode: str = "regional") -> Front:
    """What `make dev` serves: the gateway, and CloudFront in front of it for short links."""
    functions = Environments()
    gateway = Gateway("key", functions=functions)
    cloudfront = LocalCloudFront(gateway.origin, functions.invoker("edge_redirect"), cache=False)
    return Front(gateway.handle, cloudfront, mode)


def get(front: Front, path: str, method: str = "GET", accept: str | None = None) -> Any:
    headers = {"Accept": accept} if accept else {}
    return front.handle(method, path, headers, b"", "127.0.0.1")


@pytest.mark.parametrize(
    ("method", "path", "mode", "expected"),
    [
        ("GET", "/abc", "edge", "/abc"),
        ("HEAD", "/abc", "edge", "/abc"),
        ("GET", "/abc", "regional", None),
        ("GET", "/_squrl/edge/abc", "regional", "/abc"),
        ("GET", "/health", "edge", None),
        ("GET", "/urls/abc", "edge", None),
        ("POST", "/abc", "edge", None),
        ("GET", "/", "edge", None),
    ],
)
def test_which_requests_take_the_edge_path(
    method: str, path: str, mode: str, expected: str | None
) -> None:
    assert edge_target(method, path, mode) == expected


def test_edge_mode_answers_codes_from_the_edge_handler(
    dynamodb: Any, edge_reads: CountingClient
) -> None:
    put_link(dynamodb, "edge301", "https://example.com/e", 308)
    result = get(local_host("edge"), "/edge301")
    assert result.status == 308
    assert result.headers["Location"] == "https://example.com/e"
    assert result.headers["X-Short-Code"] == "edge301"
    assert result.body == b""
    assert edge_reads.reads == 1


def test_regional_mode_leaves_codes_to_api_gateway_but_serves_the_edge_route(
    dynamodb: Any, edge_reads: CountingClient
) -> None:
    put_link(dynamodb, "both1")
    front = local_host()
    assert get(front, "/both1").status == 301
    assert edge_reads.reads == 0
    via_edge = get(front, "/_squrl/edge/both1")
    assert via_edge.status == 301 and via_edge.headers["X-Short-Code"] == "both1"
    assert edge_reads.reads == 1


def test_edge_404_is_negotiated_with_the_regional_headers(
    dynamodb: Any, edge_reads: CountingClient
) -> None:
    front = local_host("edge")
    html = get(front, "/nothing1", accept=BROWSER)
    api = get(front, "/nothing1", accept="application/json")
    regional = get(local_host(), "/nothing1", accept=BROWSER)
    assert html.status == api.status == regional.status == 404
    assert html.body.startswith(b"<!doctype html>")
    assert json.loads(api.body)["error"] == "NotFound"
    assert html.headers == regional.headers
    assert html.headers["Cache-Control"] == "public, max-age=60"
    # The second answer comes from the function's memory: same headers, plus Age.
    assert api.headers["Cache-Control"] == "public, max-age=60"
    assert api.headers["Age"] in ("0", "1")


@pytest.mark.parametrize(
    ("headers", "fmt"),
    [
        ({}, "json"),
        ({"Accept": BROWSER}, "html"),
        ({"accept": "*/*"}, "json"),
        ({"Accept": "application/json", "X-Squrl-Format": "html"}, "json"),
    ],
)
def test_the_local_viewer_request_sets_the_format(headers: dict[str, str], fmt: str) -> None:
    result = viewer_request(headers)
    assert result["x-squrl-format"] == fmt
    assert [k for k in result if k.lower() == "x-squrl-format"] == ["x-squrl-format"]


def test_a_failed_edge_read_is_answered_by_the_regional_origin(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = CountingClient(dynamodb, ReadTimeoutError(endpoint_url="https://dynamodb"))
    monkeypatch.setattr(edge_module, "redirector", Redirector(failing, TABLE, LookupCache()))
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)
    put_link(dynamodb, "fallback1", "https://example.com/f", 302)
    front = local_host("edge")

    redirect = get(front, "/fallback1")
    missing = get(front, "/fallback404", accept=BROWSER)

    assert failing.reads == 2
    assert redirect.status == 302
    assert redirect.headers["Location"] == "https://example.com/f"
    assert redirect.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    # The regional 404, in the format of the cache key, with its own headers.
    assert missing.status == 404
    assert missing.headers["Cache-Control"] == "public, max-age=60"
    assert missing.body.startswith(b"<!doctype html>")


def test_the_api_is_unchanged_in_edge_mode(dynamodb: Any, edge_reads: CountingClient) -> None:
    front = local_host("edge")
    assert get(front, "/urls/abc").status == 403
    assert get(front, "/health").status == 200
    assert edge_reads.reads == 0


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        local_host("cdn")


# The optional local CloudFront cache (SQURL_EDGE_CACHE) -----------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def cached_edge(clock: Clock) -> tuple[LocalCloudFront, list[str]]:
    functions = Environments()
    gateway = Gateway("key", functions=functions)
    calls: list[str] = []

    def origin(method: str, path: str, headers: dict[str, str], ip: str) -> Any:
        calls.append(path)
        return gateway.origin(method, path, headers, ip)

    edge = LocalCloudFront(origin, functions.invoker("edge_redirect"), cache=True, clock=clock)
    return edge, calls


def not_called(*args: Any) -> Any:
    raise AssertionError("not called")


def edge_get(edge: LocalCloudFront, path: str, accept: str | None = None, method: str = "GET"):
    return edge.handle(method, path, {"Accept": accept} if accept else {}, "127.0.0.1")


def test_the_local_cache_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQURL_EDGE_CACHE", raising=False)
    assert LocalCloudFront(not_called, not_called).cache_enabled is False
    monkeypatch.setenv("SQURL_EDGE_CACHE", "1")
    assert LocalCloudFront(not_called, not_called).cache_enabled is True


def test_a_local_cache_hit_keeps_cache_control_and_adds_age(
    dynamodb: Any, edge_reads: CountingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The function's own clock is pinned: its memory hit below happens "at once".
    monkeypatch.setattr(edge_module, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    put_link(dynamodb, "cached1", "https://example.com/c", 302)
    clock = Clock()
    edge, _ = cached_edge(clock)
    first = edge_get(edge, "/cached1")
    clock.now += 25
    hit = edge_get(edge, "/cached1")
    assert edge_reads.reads == 1
    assert "Age" not in first.headers
    assert hit.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert hit.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert hit.headers["Age"] == "25"
    assert {k: v for k, v in hit.headers.items() if k != "Age"} == first.headers
    # s-maxage=60 from the read: at 60 s it is gone and the function answers again (from its
    # memory, whose clock has not moved: Age 0).
    clock.now += 35
    again = edge_get(edge, "/cached1")
    assert again.headers["Age"] == "0"
    assert edge.cache[("/cached1", "json")].stored_at == clock.now


def test_the_local_cache_keys_on_path_and_format(dynamodb: Any, edge_reads: CountingClient) -> None:
    clock = Clock()
    edge, _ = cached_edge(clock)
    html = edge_get(edge, "/absent1", accept=BROWSER)
    api = edge_get(edge, "/absent1", accept="application/json")
    curl = edge_get(edge, "/absent1", accept="*/*")
    chrome = edge_get(edge, "/absent1", accept="text/html,*/*;q=0.8")
    assert html.body.startswith(b"<!doctype html>") and chrome.body == html.body
    assert json.loads(api.body)["error"] == "NotFound" and curl.body == api.body
    # Two variants stored; the second request of each format is a cache hit.
    assert sorted(edge.cache) == [("/absent1", "html"), ("/absent1", "json")]
    assert "Age" in chrome.headers and "Age" in curl.headers
    assert chrome.headers["Cache-Control"] == curl.headers["Cache-Control"] == "public, max-age=60"


def test_an_answer_from_the_functions_memory_is_stored_for_what_remains(
    dynamodb: Any, edge_reads: CountingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    function_now = 1_800_000_000.0
    monkeypatch.setattr(edge_module, "time", SimpleNamespace(time=lambda: function_now))
    put_link(dynamodb, "aged1", redirect_type=302)
    clock = Clock()
    edge, _ = cached_edge(clock)
    # The function remembered the lookup for 19.5 s (its own clock); CloudFront sees Age: 20.
    now = clock.now
    edge_module.redirector.answer("aged1", function_now - 19.5, None)
    answered = edge_get(edge, "/aged1")
    assert answered.headers["Age"] == "20"
    assert answered.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    stored = edge.cache[("/aged1", "json")]
    assert stored.expires_at == now + 40
    clock.now += 10
    assert edge_get(edge, "/aged1").headers["Age"] == "30"


def test_head_is_served_from_a_stored_get_without_a_body(
    dynamodb: Any, edge_reads: CountingClient
) -> None:
    clock = Clock()
    edge, _ = cached_edge(clock)
    assert edge_get(edge, "/absent2", method="HEAD").body == b""
    assert edge.cache == {}
    edge_get(edge, "/absent2")
    head = edge_get(edge, "/absent2", method="HEAD")
    assert head.status == 404 and head.body == b"" and "Age" in head.headers


@pytest.mark.parametrize(
    ("cache_control", "seconds"),
    [
        ("public, max-age=3600", 3600),
        ("public, max-age=0, s-maxage=60", 60),
        ("public, max-age=60", 60),
        ("public, max-age=86400", 3600),
        ("private, max-age=60", 0),
        ("no-store", 0),
        ("public, no-cache, max-age=60", 0),
        (None, 0),
    ],
)
def test_local_cache_lifetimes_follow_the_cache_policy(
    cache_control: str | None, seconds: int
) -> None:
    headers = {"Cache-Control": cache_control} if cache_control else {}
    assert lifetime(headers) == seconds

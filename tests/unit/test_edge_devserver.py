"""The local server's edge path: CloudFront's origin-request flow in front of the local gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from devserver.edge import edge_target
from devserver.gateway import Gateway
from functions.edge_redirect import handler as edge_module
from functions.redirect import handler as redirect_module
from shared.edge_cache import LookupCache
from shared.edge_redirect import EdgeRedirector
from tests.unit.test_edge_handler import TABLE, CountingClient, put_link

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def edge_reads(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> CountingClient:
    reads = CountingClient(dynamodb)
    monkeypatch.setattr(edge_module, "redirector", EdgeRedirector(reads, TABLE, LookupCache()))
    monkeypatch.setattr(redirect_module, "client", dynamodb)
    return reads


def get(gateway: Gateway, path: str, method: str = "GET", accept: str | None = None) -> Any:
    headers = {"Accept": accept} if accept else {}
    return gateway.handle(method, path, headers, b"", "127.0.0.1")


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
    gateway = Gateway("key", redirect_path="edge")
    result = get(gateway, "/edge301")
    assert result.status == 308
    assert result.headers["Location"] == "https://example.com/e"
    assert result.headers["X-Short-Code"] == "edge301"
    assert result.body == b""
    assert edge_reads.reads == 1


def test_regional_mode_leaves_codes_to_api_gateway_but_serves_the_edge_route(
    dynamodb: Any, edge_reads: CountingClient
) -> None:
    put_link(dynamodb, "both1")
    gateway = Gateway("key")
    assert gateway.redirect_path == "regional"
    assert get(gateway, "/both1").status == 301
    assert edge_reads.reads == 0
    via_edge = get(gateway, "/_squrl/edge/both1")
    assert via_edge.status == 301 and via_edge.headers["X-Short-Code"] == "both1"
    assert edge_reads.reads == 1


def test_edge_404_is_negotiated_and_private(dynamodb: Any, edge_reads: CountingClient) -> None:
    gateway = Gateway("key", redirect_path="edge")
    html = get(gateway, "/nothing1", accept=BROWSER)
    api = get(gateway, "/nothing1", accept="application/json")
    assert html.status == api.status == 404
    assert html.body.startswith(b"<!doctype html>")
    assert json.loads(api.body)["error"] == "NotFound"
    assert html.headers["Cache-Control"] == "private, max-age=60"
    # The second answer comes from the function's memory, aged by the (sub-second) wait.
    assert api.headers["Cache-Control"] in ("private, max-age=60", "private, max-age=59")


def test_a_failed_edge_read_is_answered_by_the_regional_origin(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = CountingClient(dynamodb, ReadTimeoutError(endpoint_url="https://dynamodb"))
    monkeypatch.setattr(edge_module, "redirector", EdgeRedirector(failing, TABLE, LookupCache()))
    monkeypatch.setattr(redirect_module, "client", dynamodb)
    put_link(dynamodb, "fallback1", "https://example.com/f", 302)
    gateway = Gateway("key", redirect_path="edge")

    redirect = get(gateway, "/fallback1")
    missing = get(gateway, "/fallback404", accept=BROWSER)

    assert failing.reads == 2
    assert redirect.status == 302
    assert redirect.headers["Location"] == "https://example.com/f"
    assert redirect.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    # The regional 404 passed the origin-response trigger: CloudFront would not share it.
    assert missing.status == 404
    assert missing.headers["Cache-Control"] == "private, max-age=60"
    assert missing.body.startswith(b"<!doctype html>")


def test_the_api_is_unchanged_in_edge_mode(dynamodb: Any, edge_reads: CountingClient) -> None:
    gateway = Gateway("key", redirect_path="edge")
    assert get(gateway, "/urls/abc").status == 403
    assert get(gateway, "/health").status == 200
    assert edge_reads.reads == 0


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        Gateway("key", redirect_path="cdn")

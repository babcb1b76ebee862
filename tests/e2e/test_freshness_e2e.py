"""docs/api.md section 7, "Freshness after a change", over HTTP: with the local CloudFront cache
on (SQURL_EDGE_CACHE=1), a change is seen at once on the edge path and the regional path."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import HttpResponse, LocalServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    port = free_port()
    key = "fresh-" + os.urandom(8).hex()
    process = start_server(port, key, {"SQURL_RATE_LIMIT": "1000", "SQURL_EDGE_CACHE": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LocalServer(url, key, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def edge(server: LocalServer, code: str) -> HttpResponse:
    return server.request("GET", f"/_squrl/edge/{code}", key=False)


def regional(server: LocalServer, code: str) -> HttpResponse:
    return server.request("GET", f"/{code}", key=False)


def cached_permanent_link(server: LocalServer) -> str:
    """A 301 link whose edge answer sits in the local CloudFront cache (a hit has `Age`)."""
    code = "fresh-" + uuid.uuid4().hex[:10]
    made = server.create(
        {"original_url": "https://before.example/", "custom_code": code, "redirect_type": 301}
    )
    assert made.status == 201, made.body
    first = edge(server, code)
    assert first.status == 301 and first.headers["Location"] == "https://before.example/"
    hit = edge(server, code)
    assert hit.status == 301 and "Age" in hit.headers, hit.headers
    assert regional(server, code).headers["Location"] == "https://before.example/"
    return code


def test_a_new_target_is_seen_at_once_on_both_paths(server: LocalServer) -> None:
    code = cached_permanent_link(server)
    changed = server.request("PATCH", f"/urls/{code}", {"original_url": "https://after.example/"})
    assert changed.status == 200, changed.body
    after = edge(server, code)
    assert after.status == 301 and after.headers["Location"] == "https://after.example/"
    assert regional(server, code).headers["Location"] == "https://after.example/"


def test_disabling_is_seen_at_once_on_both_paths(server: LocalServer) -> None:
    code = cached_permanent_link(server)
    assert server.request("PATCH", f"/urls/{code}", {"status": "disabled"}).status == 200
    at_edge, at_home = edge(server, code), regional(server, code)
    assert at_edge.status == at_home.status
    assert at_edge.status in (404, 410) and "Location" not in at_edge.headers


def test_deleting_is_seen_at_once_on_both_paths(server: LocalServer) -> None:
    code = cached_permanent_link(server)
    assert server.request("DELETE", f"/urls/{code}").status == 204
    assert edge(server, code).status == 410
    assert regional(server, code).status == 410


def test_a_refused_change_keeps_the_cached_answer(server: LocalServer) -> None:
    code = cached_permanent_link(server)
    refused = server.request("PATCH", f"/urls/{code}", {"status": "disabled"}, key="wrong")
    assert refused.status == 403
    kept = edge(server, code)
    assert kept.status == 301 and "Age" in kept.headers

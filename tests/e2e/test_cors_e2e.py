"""CORS preflight on the local server answers as the API stack's OPTIONS methods do.

A browser sends `OPTIONS` without credentials before any request carrying `x-api-key`, a JSON
body or `If-Match`; without an answer naming the method and headers, no web client can manage
links at all (docs/api.md section 7).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import LocalServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e

KEY = "cors-e2e-key"
ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalServer]:
    port = free_port()
    process = start_server(port, KEY, {"SQURL_CORS_ORIGINS": f"{ORIGIN},http://localhost:3000"})
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    yield LocalServer(url, KEY, process)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/urls", {"GET", "POST", "OPTIONS"}),
        ("/urls/abc123", {"GET", "PATCH", "DELETE", "OPTIONS"}),
        ("/urls/abc123/history", {"GET", "OPTIONS"}),
    ],
)
def test_a_preflight_names_the_routes_methods_and_headers(
    local: LocalServer, path: str, methods: set[str]
) -> None:
    answer = local.request(
        "OPTIONS",
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type,x-api-key,if-match",
        },
        key=False,
    )
    assert answer.status == 204, answer.body
    headers = {k.lower(): v for k, v in answer.headers.items()}
    assert headers["access-control-allow-origin"] == ORIGIN
    assert set(headers["access-control-allow-methods"].split(",")) == methods
    allowed = {h.lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "x-api-key", "if-match", "idempotency-key"} <= allowed


def test_a_preflight_from_another_origin_is_not_allowed(local: LocalServer) -> None:
    answer = local.request("OPTIONS", "/urls", headers={"Origin": "https://evil.test"}, key=False)
    headers = {k.lower() for k in answer.headers}
    assert "access-control-allow-origin" not in headers


def test_public_routes_have_no_preflight(local: LocalServer) -> None:
    # As in the API stack: no OPTIONS method there, so the resource's ANY method answers 405.
    answer = local.request("OPTIONS", "/abc123", headers={"Origin": ORIGIN}, key=False)
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert "access-control-allow-origin" not in {k.lower() for k in answer.headers}

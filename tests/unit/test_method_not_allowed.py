"""405 for an undeclared method on a declared path, in the local gateway (docs/api.md section 9).

The API stack answers the same with an ANY method per resource (tests/infra/test_api_stack.py).
"""

from __future__ import annotations

import json

import pytest

from devserver.gateway import Gateway, allowed_methods, resource_for

SOURCE = "198.51.100.1"


@pytest.fixture
def gateway() -> Gateway:
    return Gateway("k")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/urls", "GET, POST"),
        ("DELETE", "/urls", "GET, POST"),
        ("PUT", "/urls/abc123", "DELETE, GET, PATCH"),
        ("POST", "/urls/abc123", "DELETE, GET, PATCH"),
        ("HEAD", "/urls/abc123", "DELETE, GET, PATCH"),
        ("GET", "/urls/bulk", "POST"),
        ("PATCH", "/urls/bulk", "POST"),
        ("POST", "/health", "GET"),
        ("POST", "/abc123", "GET, HEAD"),
        ("DELETE", "/abc123", "GET, HEAD"),
        ("POST", "/urls/abc123/history", "GET"),
        ("POST", "/openapi.json", "GET"),
    ],
)
def test_an_undeclared_method_is_405_with_allow(
    gateway: Gateway, method: str, path: str, allow: str
) -> None:
    result = gateway.handle(method, path, {"x-api-key": "k"}, b"", SOURCE)
    assert result.status == 405
    assert result.headers["Allow"] == allow
    assert result.headers["Content-Type"] == "application/json"
    body = json.loads(result.body)
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == "MethodNotAllowed"


def test_an_undeclared_path_stays_404(gateway: Gateway) -> None:
    result = gateway.handle("PUT", "/urls/abc/def/ghi", {}, b"", SOURCE)
    assert result.status == 404
    assert json.loads(result.body)["error"] == "NotFound"


def test_a_literal_segment_wins_over_a_parameter() -> None:
    assert resource_for("/urls/bulk") == "/urls/bulk"
    assert resource_for("/urls/bulk2") == "/urls/{code}"
    assert resource_for("/openapi.json") == "/openapi.json"
    assert allowed_methods("/nope/at/all") == []


def test_a_cors_preflight_still_answers(monkeypatch: pytest.MonkeyPatch, gateway: Gateway) -> None:
    monkeypatch.setenv("SQURL_CORS_ORIGINS", "https://app.example")
    result = gateway.handle("OPTIONS", "/urls/bulk", {"Origin": "https://app.example"}, b"", SOURCE)
    assert result.status == 204
    assert result.headers["Access-Control-Allow-Methods"] == "POST,OPTIONS"
    assert result.headers["Access-Control-Allow-Origin"] == "https://app.example"

"""A scripted squrl API for the SDK and CLI unit tests, served through httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE_URL = "https://api.sq.example"
TOKEN = "squrl_unit_test_token"


def link(code: str = "abc123", **overrides: Any) -> dict[str, Any]:
    body = {
        "short_code": code,
        "original_url": f"https://example.com/{code}",
        "short_url": f"https://sq.example/{code}",
        "created_at": "2026-12-01T10:00:00Z",
        "expires_at": None,
        "redirect_type": 301,
        "status": "active",
        "click_count": 0,
        "title": None,
        "tags": [],
        "updated_at": "2026-12-01T10:00:00Z",
        "version": 1,
    }
    body.update(overrides)
    return body


def error(status: int, code: str, message: str, details: Any = None, **headers: str) -> Any:
    return httpx.Response(
        status,
        json={"error": code, "message": message, "details": details},
        headers=headers,
    )


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


@dataclass
class FakeApi:
    """Routes `METHOD /path` to queued answers (the last one repeats) and records requests."""

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> FakeApi:
        self.routes[f"{method} {path}"] = list(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get(f"{request.method} {request.url.path}")
        if not queue:
            return error(404, "NotFound", f"no route {request.method} {request.url.path}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def last(self, method: str | None = None, path: str | None = None) -> httpx.Request:
        for request in reversed(self.requests):
            if (method is None or request.method == method) and (
                path is None or request.url.path == path
            ):
                return request
        raise AssertionError(f"no request {method} {path}")

    def body(self, request: httpx.Request) -> Any:
        return json.loads(request.content)

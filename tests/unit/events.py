"""API Gateway REST proxy events, as the local gateway and AWS build them."""

from __future__ import annotations

import json
from typing import Any

from devserver.gateway import ROUTES, Gateway, LambdaContext

API_KEY = "test-key"
OWNER = "owner-1"

_gateway = Gateway(API_KEY, api_key_id=OWNER)


def event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    owner: str = OWNER,
    query: str = "",
) -> dict[str, Any]:
    matched = _gateway.match(method, path)
    assert matched is not None, f"no route for {method} {path}"
    route, params = matched
    raw = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else b"")
    )
    result = _gateway.event(route, path, params, query, headers or {}, raw, "198.51.100.7")
    if route.api_key_required:
        result["requestContext"]["identity"]["apiKeyId"] = owner
    return result


def context(name: str = "test") -> LambdaContext:
    return LambdaContext(name)


__all__ = ["API_KEY", "OWNER", "ROUTES", "context", "event"]

"""The link routes through their handlers, with API Gateway's proxy events, against moto."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from functions.create_url import handler as create_module
from functions.get_url import handler as get_module
from functions.redirect import handler as redirect_module
from functions.update_url import handler as update_module
from tests.unit.events import OWNER, context, event

TABLE = "squrl-urls-test"
OTHER = "owner-2"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


def use_moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Handlers make their clients at import; inside mock_aws they must talk to moto."""
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)
    for module in (create_module, get_module, update_module):
        monkeypatch.setattr(module, "dynamodb", lambda region: dynamodb)


def call(
    method: str,
    path: str,
    body: Any = None,
    *,
    owner: str = OWNER,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Reply:
    module = {
        "POST": create_module,
        "GET": get_module,
        "PATCH": update_module,
        "DELETE": update_module,
    }[method]
    request = event(method, path, body, headers=headers, owner=owner, query=query)
    response = module.handler(request, context())
    merged = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        merged[key] = ", ".join(values)
    raw = response.get("body")
    return Reply(response["statusCode"], json.loads(raw) if raw else None, merged)


def create(body: dict[str, Any], **kwargs: Any) -> Reply:
    return call("POST", "/urls", body, **kwargs)


def make(url: str = "https://example.com/x", **fields: Any) -> dict[str, Any]:
    """A new link of OWNER (or `owner=`), as the create answered it."""
    owner = fields.pop("owner", OWNER)
    reply = create({"original_url": url, **fields}, owner=owner)
    assert reply.status == 201, reply.body
    return reply.body


def get(code: str, **kwargs: Any) -> Reply:
    return call("GET", f"/urls/{code}", **kwargs)


def patch(code: str, body: Any, **kwargs: Any) -> Reply:
    return call("PATCH", f"/urls/{code}", body, **kwargs)


def delete(code: str, **kwargs: Any) -> Reply:
    return call("DELETE", f"/urls/{code}", **kwargs)


def history(code: str, **kwargs: Any) -> Reply:
    return call("GET", f"/urls/{code}/history", **kwargs)


def listing(query: str = "", **kwargs: Any) -> Reply:
    return call("GET", "/urls", query=query, **kwargs)


def follow(code: str, accept: str | None = None) -> dict[str, Any]:
    headers = {"Accept": accept} if accept else {}
    return redirect_module.handler(event("GET", f"/{code}", headers=headers), context())


def stored(dynamodb: Any, key: str) -> dict[str, Any] | None:
    from shared.links import repository

    return repository.get_link(dynamodb, TABLE, key, consistent=True)

"""Identity through the functions (moto): scopes on every route, /tokens, /me, the export,
erasure, admin, and one owner id through two regions."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.create_url import handler as create_module
from functions.get_url import handler as get_module
from functions.identity import handler as identity_module
from functions.imports import handler as imports_module
from functions.update_url import handler as update_module
from shared.contracts.auth import LINKS_READ, LINKS_WRITE, SCOPES, STATS_READ
from shared.contracts.routes import ROUTES
from shared.identity.authorizer import Authorizer, Decision
from shared.identity.jwt import CognitoVerifier, Jwks
from shared.identity.tokens import TokenStore
from tests.unit.events import context, event
from tests.unit.test_identity_jwt import NOW, POOL, claims, jwk_of, sign

MODULES = {
    "create_url": create_module,
    "get_url": get_module,
    "update_url": update_module,
    "identity": identity_module,
    "imports": imports_module,
}


@pytest.fixture(autouse=True)
def clients(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in MODULES.values():
        monkeypatch.setattr(module, "dynamodb", lambda region: dynamodb)


def user(owner: str, scopes: tuple[str, ...] = SCOPES, groups: str = "") -> dict[str, str]:
    return Decision(
        True, "user", owner, scopes, tuple(groups.split()), f"{owner}@x.example"
    ).context()


def token(owner: str, scopes: tuple[str, ...]) -> dict[str, str]:
    return Decision(True, "token", owner, scopes, token_id="tok_1").context()


def call(method: str, path: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
    built = event(method, path, body)
    built["requestContext"]["identity"]["apiKeyId"] = "bearer-usage-key-id"
    built["requestContext"]["authorizer"] = who
    route = next(r for r in ROUTES if r.method == method and r.resource == built["resource"])
    response = MODULES[route.function].handler(built, context())
    raw = response.get("body") or "null"
    return response["statusCode"], json.loads(raw)


def test_every_authenticated_route_refuses_a_token_without_its_scope() -> None:
    scoped = [r for r in ROUTES if r.api_key_required and r.scope is not None]
    assert {r.scope for r in scoped} == {LINKS_READ, LINKS_WRITE, STATS_READ}
    for route in scoped:
        others = tuple(s for s in SCOPES if s != route.scope)
        path = route.resource.replace("{code}", "abcdefgh").replace("{id}", "tok_1")
        body = {"original_url": "https://x.example/"} if route.method in ("POST", "PATCH") else None
        status, answer = call(route.method, path, token("user-1", others), body)
        assert status == 403, route
        assert answer["error"] == "Forbidden"
        assert answer["details"]["reason"] == "scope"
        assert answer["details"]["scope"] == route.scope


def test_a_scoped_token_may_do_what_its_scopes_allow() -> None:
    writer = token("user-1", (LINKS_WRITE,))
    status, created = call("POST", "/urls", writer, {"original_url": "https://a.example/"})
    assert status == 201
    reader = token("user-1", (LINKS_READ,))
    assert call("GET", f"/urls/{created['short_code']}", reader)[0] == 200
    assert call("GET", f"/urls/{created['short_code']}/stats", reader)[0] == 403


def test_tokens_create_list_revoke() -> None:
    me = user("user-1")
    status, made = call(
        "POST", "/tokens", me, {"name": "ci", "scopes": ["links:read"], "expires_in_days": 7}
    )
    assert status == 201
    assert set(made) == {"id", "name", "scopes", "token", "created_at", "expires_at"}
    assert made["token"].startswith("squrl_") and made["scopes"] == ["links:read"]
    status, listed = call("GET", "/tokens", me)
    assert status == 200
    assert [t["id"] for t in listed["items"]] == [made["id"]]
    assert "token" not in listed["items"][0] and "last_used_at" in listed["items"][0]
    # Another owner cannot see or revoke it.
    assert call("GET", "/tokens", user("user-2"))[1] == {"items": []}
    assert call("DELETE", f"/tokens/{made['id']}", user("user-2"))[0] == 404
    assert call("DELETE", f"/tokens/{made['id']}", me)[0] == 204
    assert call("GET", "/tokens", me)[1] == {"items": []}


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["links:read"]},
        {"name": "", "scopes": ["links:read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": ["links:read"], "expires_in_days": 0},
        {"name": "x", "scopes": ["links:read"], "expires_in_days": 366},
        {"name": "x", "scopes": ["links:read"], "expires_in_days": "7"},
        {"name": "x", "scopes": ["links:read"], "extra": 1},
    ],
)
def test_bad_token_requests_are_400_and_store_nothing(dynamodb: Any, body: Any) -> None:
    status, answer = call("POST", "/tokens", user("user-1"), body)
    assert status == 400 and answer["error"] == "ValidationError"
    assert dynamodb.scan(TableName=os.environ["SQURL_TABLE_NAME"])["Count"] == 0


def test_a_token_cannot_mint_a_scope_it_lacks() -> None:
    status, answer = call(
        "POST", "/tokens", token("user-1", (LINKS_READ,)), {"name": "x", "scopes": ["links:write"]}
    )
    assert status == 400 and answer["details"]["reason"] == "scope"


def minted(owner: str, scopes: list[str], days: int) -> dict[str, str]:
    """A real token of `owner` (created by the user) as the authorizer passes it on."""
    status, made = call(
        "POST", "/tokens", user(owner), {"name": "t", "scopes": scopes, "expires_in_days": days}
    )
    assert status == 201
    return Decision(True, "token", owner, tuple(made["scopes"]), token_id=made["id"]).context()


def long_parent_expiry(parent: dict[str, str]) -> str:
    status, listed = call("GET", "/tokens", user("user-1"))
    assert status == 200
    return next(t["expires_at"] for t in listed["items"] if t["id"] == parent["token_id"])


def test_a_token_cannot_mint_a_token_that_outlives_it(dynamodb: Any) -> None:
    parent = minted("user-1", ["links:read"], 1)
    before = dynamodb.scan(TableName=os.environ["SQURL_TABLE_NAME"])["Count"]
    status, answer = call(
        "POST", "/tokens", parent, {"name": "x", "scopes": ["links:read"], "expires_in_days": 365}
    )
    assert status == 400 and answer["error"] == "ValidationError"
    assert answer["details"]["reason"] == "expires_after_parent"
    assert dynamodb.scan(TableName=os.environ["SQURL_TABLE_NAME"])["Count"] == before
    # A child as long-lived as a 30-day parent is allowed only up to the parent's expiry.
    long_parent = minted("user-1", ["links:read"], 30)
    body = {"name": "x", "scopes": ["links:read"], "expires_in_days": 30}
    time.sleep(1.1)  # a second later, 30 days would end after the parent: capped at its expiry
    status, child = call("POST", "/tokens", long_parent, body)
    assert status == 201
    assert child["expires_at"] == long_parent_expiry(long_parent)
    body["expires_in_days"] = 31
    assert call("POST", "/tokens", long_parent, body)[0] == 400
    # A user (or API key) may create any expiry up to 365 days.
    body["expires_in_days"] = 365
    assert call("POST", "/tokens", user("user-1"), body)[0] == 201


def test_a_revoked_token_cannot_mint() -> None:
    parent = minted("user-1", ["links:read"], 30)
    assert call("DELETE", f"/tokens/{parent['token_id']}", user("user-1"))[0] == 204
    status, answer = call("POST", "/tokens", parent, {"name": "x", "scopes": ["links:read"]})
    assert status == 403 and answer["details"]["reason"] == "revoked"


def test_a_token_may_revoke_only_tokens_within_its_scopes() -> None:
    stats_only = minted("user-1", ["stats:read"], 30)
    full = minted("user-1", list(SCOPES), 30)
    narrow = minted("user-1", ["stats:read"], 30)
    status, answer = call("DELETE", f"/tokens/{full['token_id']}", stats_only)
    assert status == 403 and answer["details"]["reason"] == "scope_exceeds_caller"
    listed = [t["id"] for t in call("GET", "/tokens", user("user-1"))[1]["items"]]
    assert full["token_id"] in listed
    assert call("DELETE", f"/tokens/{narrow['token_id']}", stats_only)[0] == 204
    assert call("DELETE", f"/tokens/{full['token_id']}", full)[0] == 204
    # Another owner's token id is not found, whatever the scopes.
    assert (
        call("DELETE", f"/tokens/{stats_only['token_id']}", minted("user-2", list(SCOPES), 1))[0]
        == 404
    )
    # The user may revoke any of the owner's tokens.
    assert call("DELETE", f"/tokens/{stats_only['token_id']}", user("user-1"))[0] == 204


def test_token_creation_rate_limit_is_429() -> None:
    me = user("user-1")
    for n in range(20):
        assert call("POST", "/tokens", me, {"name": f"t{n}", "scopes": ["links:read"]})[0] == 201
    status, answer = call("POST", "/tokens", me, {"name": "more", "scopes": ["links:read"]})
    assert status == 429 and answer["error"] == "RateLimitExceeded"


def test_me_export_and_erasure(dynamodb: Any) -> None:
    me, other = user("user-1"), user("user-2")
    assert call("GET", "/me", me)[1] == {
        "user_id": "user-1",
        "email": "user-1@x.example",
        "groups": [],
    }
    _, mine = call("POST", "/urls", me, {"original_url": "https://mine.example/"})
    _, theirs = call("POST", "/urls", other, {"original_url": "https://theirs.example/"})
    call("PATCH", f"/urls/{mine['short_code']}", me, {"title": "Mine"})
    _, made = call("POST", "/tokens", me, {"name": "ci", "scopes": ["links:read"]})

    status, document = call("GET", "/me/export", me)
    assert status == 200
    assert document["user"]["user_id"] == "user-1"
    assert [link["short_code"] for link in document["links"]] == [mine["short_code"]]
    link = document["links"][0]
    assert link["stats"]["click_count"] == 0
    assert [h["action"] for h in link["history"]] == ["created", "updated"]
    assert [t["id"] for t in document["tokens"]] == [made["id"]]
    assert made["token"] not in json.dumps(document)

    assert call("DELETE", "/me", me)[0] == 204
    assert call("GET", f"/urls/{mine['short_code']}", me)[0] == 404
    assert call("GET", "/urls", me)[1]["items"] == []
    assert call("GET", "/tokens", me)[1] == {"items": []}
    store = TokenStore(dynamodb, os.environ["SQURL_TABLE_NAME"])
    found = store.find(made["token"])
    assert found is not None and found.revoked
    # The code stays taken (section 7) and the other owner's link is untouched.
    again = call(
        "POST",
        "/urls",
        other,
        {"original_url": "https://x.example/", "custom_code": mine["short_code"]},
    )
    assert again[0] == 409
    assert call("GET", f"/urls/{theirs['short_code']}", other)[0] == 200


def test_admin_may_read_and_disable_any_link_and_is_the_historys_actor() -> None:
    owner, admin = user("user-1"), user("admin-1", groups="admin")
    _, link = call("POST", "/urls", owner, {"original_url": "https://abuse.example/"})
    code = link["short_code"]
    assert call("GET", f"/urls/{code}", user("user-2"))[0] == 404
    assert call("GET", f"/urls/{code}", admin)[0] == 200
    status, changed = call("PATCH", f"/urls/{code}", admin, {"status": "disabled"})
    assert status == 200 and changed["status"] == "disabled"
    status, answer = call("PATCH", f"/urls/{code}", admin, {"original_url": "https://x.example/"})
    assert status == 400 and answer["details"]["reason"] == "admin_status_only"
    history = call("GET", f"/urls/{code}/history", owner)[1]["items"]
    assert history[-1]["actor"] == "admin-1"
    assert history[-1]["changes"] == {"status": ["active", "disabled"]}
    # A non-admin cannot.
    assert call("PATCH", f"/urls/{code}", user("user-2"), {"status": "active"})[0] == 404


def test_one_user_is_one_owner_through_two_regions(dynamodb: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwt = sign(key, claims())

    def region_authorizer() -> Authorizer:
        # Each region's authorizer has its own JWKS cache and its own replica's token reader;
        # the user pool (the issuer) is the home region's.
        jwks = Jwks(
            POOL.jwks_url, fetch=lambda url: {"keys": [jwk_of(key, "k1")]}, clock=lambda: NOW
        )
        return Authorizer(
            TokenStore(dynamodb, os.environ["SQURL_TABLE_NAME"]),
            CognitoVerifier(POOL, jwks, clock=lambda: NOW),
            cache_seconds=0,
            clock=lambda: NOW,
        )

    header = {"Authorization": f"Bearer {jwt}"}
    in_ireland = region_authorizer().decide(header, "192.0.2.1").context()
    in_virginia = region_authorizer().decide(header, "192.0.2.2").context()
    assert in_ireland["owner_id"] == in_virginia["owner_id"] == claims()["sub"]
    status, link = call("POST", "/urls", in_ireland, {"original_url": "https://both.example/"})
    assert status == 201
    # Through the other region's handler (another API key id in its request context), the
    # same user sees the same link.
    built = event("GET", f"/urls/{link['short_code']}")
    built["requestContext"]["identity"]["apiKeyId"] = "another-regions-key-id"
    built["requestContext"]["authorizer"] = in_virginia
    assert get_module.handler(built, context())["statusCode"] == 200


def test_a_mapped_api_key_acts_as_its_user(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.links import api

    # Migration (docs/identity.md): identity.key_owners maps an API key id to a user id.
    monkeypatch.setenv("SQURL_KEY_OWNERS", '{"key-id-1": "user-1"}')
    api._key_owners.cache_clear()
    try:
        _, link = call("POST", "/urls", user("user-1"), {"original_url": "https://m.example/"})
        by_key = event("GET", f"/urls/{link['short_code']}", owner="key-id-1")
        by_key["requestContext"]["authorizer"] = Authorizer.api_key("the-key-value").context()
        assert get_module.handler(by_key, context())["statusCode"] == 200
        unmapped = event("GET", f"/urls/{link['short_code']}", owner="key-id-2")
        unmapped["requestContext"]["authorizer"] = Authorizer.api_key("other").context()
        assert get_module.handler(unmapped, context())["statusCode"] == 404
    finally:
        monkeypatch.delenv("SQURL_KEY_OWNERS")
        api._key_owners.cache_clear()

"""docs/api.md section 8 over HTTP against `make dev`: the printed user and token, personal
tokens, scopes, revocation, /me, the export, erasure, and owners kept apart."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import HttpResponse, LocalServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e


class Identity:
    def __init__(self, server: LocalServer, token: str, banner: str):
        self.server, self.token, self.banner = server, token, banner

    def call(self, method: str, path: str, credential: str, body: Any = None) -> HttpResponse:
        headers = {"Authorization": f"Bearer {credential}"}
        return self.server.request(method, path, body, headers, key=False)


@pytest.fixture(scope="module")
def local() -> Iterator[Identity]:
    port = free_port()
    process = start_server(port, "alice-key,bob-key", {"SQURL_RATE_LIMIT": "1000"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        assert process.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("ready in"):
            lines.append(process.stdout.readline().decode().strip())
        banner = "\n".join(lines)
        token = next(line.split()[1] for line in lines if line.startswith("token: "))
        yield Identity(LocalServer(url, "alice-key", process), token, banner)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def make_token(local: Identity, credential: str, scopes: list[str], name: str = "t") -> dict:
    made = local.call("POST", "/tokens", credential, {"name": name, "scopes": scopes})
    assert made.status == 201, made.body
    return made.json()


def test_the_ready_user_and_token_are_printed(local: Identity) -> None:
    assert local.token.startswith("squrl_")
    assert f"/app/#token={local.token}" in local.banner
    me = local.call("GET", "/me", local.token)
    assert me.status == 200
    assert me.json() == {"user_id": "local-user", "email": "dev@localhost", "groups": []}


def test_tokens_create_list_revoke_and_a_revoked_token_is_refused_at_once(
    local: Identity,
) -> None:
    made = make_token(local, local.token, ["links:read", "links:write"], "script")
    assert made["token"].startswith("squrl_")
    assert {"id", "name", "scopes", "token", "created_at", "expires_at"} <= set(made)
    assert local.call("GET", "/urls", made["token"]).status == 200
    listed = local.call("GET", "/tokens", local.token).json()["items"]
    mine = next(t for t in listed if t["id"] == made["id"])
    assert "token" not in mine and mine["last_used_at"] is not None
    assert local.call("DELETE", f"/tokens/{made['id']}", local.token).status == 204
    refused = local.call("GET", "/urls", made["token"])
    assert refused.status == 403 and refused.json()["error"] == "Forbidden"
    unknown = local.call("GET", "/urls", "squrl_" + "A" * 43)
    # A revoked token and one that never existed get the same answer.
    assert (unknown.status, unknown.body) == (refused.status, refused.body)
    assert local.call("DELETE", f"/tokens/{made['id']}", local.token).status == 404


def test_scopes(local: Identity) -> None:
    reader = make_token(local, local.token, ["links:read"], "reader")["token"]
    assert local.call("GET", "/urls", reader).status == 200
    refused = local.call("POST", "/urls", reader, {"original_url": "https://scope.example/"})
    assert refused.status == 403
    assert refused.json()["error"] == "Forbidden"
    assert refused.json()["details"]["reason"] == "scope"
    code = local.call("POST", "/urls", local.token, {"original_url": "https://s.example/"})
    code = code.json()["short_code"]
    assert local.call("GET", f"/urls/{code}/stats", reader).json()["details"]["reason"] == "scope"
    # A read-only token cannot mint a writing one.
    escalate = local.call("POST", "/tokens", reader, {"name": "x", "scopes": ["links:write"]})
    assert escalate.status == 400


def test_owners_stay_isolated(local: Identity) -> None:
    alice_token = make_token(local, "alice-key", ["links:read", "links:write"], "alice")["token"]
    created = local.call("POST", "/urls", alice_token, {"original_url": "https://alice.example/"})
    assert created.status == 201
    code = created.json()["short_code"]
    # The token is its maker's: the API key's owner sees the link, other owners do not.
    assert local.server.request("GET", f"/urls/{code}", key="alice-key").status == 200
    assert local.server.request("GET", f"/urls/{code}", key="bob-key").status == 404
    assert local.call("GET", f"/urls/{code}", local.token).status == 404
    assert local.call("PATCH", f"/urls/{code}", local.token, {"title": "x"}).status == 404
    assert code not in local.call("GET", "/urls", local.token).body.decode()
    # Nor can another owner list or revoke the token.
    alice_tokens = local.call("GET", "/tokens", "alice-key").json()["items"]
    theirs = local.call("GET", "/tokens", "bob-key").json()["items"]
    assert {t["id"] for t in alice_tokens}.isdisjoint({t["id"] for t in theirs})
    assert local.call("DELETE", f"/tokens/{alice_tokens[0]['id']}", "bob-key").status == 404


def test_export_then_erasure(local: Identity) -> None:
    bob = make_token(local, "bob-key", ["links:read", "links:write", "stats:read"], "bob")
    made = [
        local.call("POST", "/urls", bob["token"], {"original_url": f"https://bob{n}.example/"})
        for n in range(3)
    ]
    codes = sorted(m.json()["short_code"] for m in made)
    local.call("PATCH", f"/urls/{codes[0]}", bob["token"], {"status": "disabled"})

    exported = local.call("GET", "/me/export", bob["token"])
    assert exported.status == 200
    document = exported.json()
    assert document["user"]["user_id"] == "local-key-2"
    assert sorted(link["short_code"] for link in document["links"]) == codes
    assert all("stats" in link and link["history"] for link in document["links"])
    assert bob["id"] in [t["id"] for t in document["tokens"]]
    assert bob["token"] not in exported.body.decode()

    assert local.call("DELETE", "/me", bob["token"]).status == 204
    for code in codes:
        assert local.server.request("GET", f"/{code}", key=False).status == 410
        assert local.server.request("GET", f"/urls/{code}", key="bob-key").status == 404
    assert local.call("GET", "/urls", bob["token"]).status == 403  # its tokens are revoked
    assert local.server.request("GET", "/tokens", key="bob-key").json() == {"items": []}
    # The other owners' links are untouched.
    assert local.call("GET", "/me", local.token).status == 200


def test_a_token_cannot_outlive_or_out_revoke_itself(local: Identity) -> None:
    body = {"name": "short", "scopes": ["links:read"], "expires_in_days": 1}
    short = local.call("POST", "/tokens", local.token, body).json()
    body = {"name": "long", "scopes": ["links:read"], "expires_in_days": 365}
    refused = local.call("POST", "/tokens", short["token"], body)
    assert refused.status == 400 and refused.json()["error"] == "ValidationError"
    assert refused.json()["details"]["reason"] == "expires_after_parent"
    names = [t["name"] for t in local.call("GET", "/tokens", local.token).json()["items"]]
    assert "long" not in names
    # A stats:read token cannot revoke a full-scope one; a signed-in caller's token may.
    stats_only = make_token(local, local.token, ["stats:read"], "stats")
    full = make_token(local, local.token, ["links:read", "links:write", "stats:read"], "full")
    denied = local.call("DELETE", f"/tokens/{full['id']}", stats_only["token"])
    assert denied.status == 403 and denied.json()["details"]["reason"] == "scope_exceeds_caller"
    assert local.call("GET", "/urls", full["token"]).status == 200
    assert local.call("DELETE", f"/tokens/{full['id']}", local.token).status == 204
    assert local.call("DELETE", f"/tokens/{short['id']}", local.token).status == 204
    assert local.call("DELETE", f"/tokens/{stats_only['id']}", stats_only["token"]).status == 204

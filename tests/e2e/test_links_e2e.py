"""docs/api.md section 7 over HTTP, against the local server that `make dev` runs, with two
API keys (two owners)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import HttpResponse, LocalServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e


@dataclass
class Owners:
    server: LocalServer
    alice: str
    bob: str

    def as_alice(self, method: str, path: str, body: object = None, **headers: str):
        return self.server.request(method, path, body, headers, key=self.alice)

    def as_bob(self, method: str, path: str, body: object = None, **headers: str):
        return self.server.request(method, path, body, headers, key=self.bob)


@pytest.fixture(scope="module")
def owners() -> Iterator[Owners]:
    port = free_port()
    alice, bob = "alice-" + os.urandom(8).hex(), "bob-" + os.urandom(8).hex()
    process = start_server(port, f"{alice},{bob}", {"SQURL_RATE_LIMIT": "1000"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield Owners(LocalServer(url, alice, process), alice, bob)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def unique_url() -> str:
    return f"https://e2e-{uuid.uuid4().hex[:12]}.example/"


def created(response: HttpResponse) -> dict:
    assert response.status == 201, response.body
    return response.json()


def test_patch_with_etags_and_the_redirect_follows(owners: Owners) -> None:
    link = created(owners.as_alice("POST", "/urls", {"original_url": unique_url()}))
    code = link["short_code"]
    shown = owners.as_alice("GET", f"/urls/{code}")
    assert shown.headers["ETag"] == '"1"' and shown.json()["version"] == 1
    changed = owners.as_alice(
        "PATCH",
        f"/urls/{code}",
        {"original_url": "https://after.example/", "redirect_type": 302, "tags": ["b", "a"]},
        **{"If-Match": shown.headers["ETag"]},
    )
    assert changed.status == 200 and changed.headers["ETag"] == '"2"'
    assert changed.json()["tags"] == ["a", "b"]
    followed = owners.server.request("GET", f"/{code}", key=False)
    assert followed.status == 302 and followed.headers["Location"] == "https://after.example/"
    stale = owners.as_alice(
        "PATCH", f"/urls/{code}", {"title": "late"}, **{"If-Match": shown.headers["ETag"]}
    )
    assert stale.status == 412 and stale.json()["error"] == "PreconditionFailed"
    assert owners.as_alice("PATCH", f"/urls/{code}", {}).status == 400


def test_delete_tombstones_the_code(owners: Owners) -> None:
    code = "e2e-" + uuid.uuid4().hex[:10]
    created(owners.as_alice("POST", "/urls", {"original_url": unique_url(), "custom_code": code}))
    deleted = owners.as_alice("DELETE", f"/urls/{code}")
    assert deleted.status == 204 and deleted.body == b""
    assert owners.server.request("GET", f"/{code}", key=False).status == 410
    assert owners.as_alice("GET", f"/urls/{code}").status == 404
    again = owners.as_alice("POST", "/urls", {"original_url": unique_url(), "custom_code": code})
    assert again.status == 409
    history = owners.as_alice("GET", f"/urls/{code}/history")
    assert [e["action"] for e in history.json()["items"]] == ["created", "deleted"]


def test_history_records_each_change(owners: Owners) -> None:
    code = created(owners.as_alice("POST", "/urls", {"original_url": unique_url()}))["short_code"]
    owners.as_alice("PATCH", f"/urls/{code}", {"title": "One"})
    owners.as_alice("PATCH", f"/urls/{code}", {"status": "disabled"})
    items = owners.as_alice("GET", f"/urls/{code}/history").json()["items"]
    assert [e["action"] for e in items] == ["created", "updated", "updated"]
    assert items[1]["changes"] == {"title": [None, "One"]}
    assert items[2]["changes"] == {"status": ["active", "disabled"]}
    assert {e["actor"] for e in items} == {"local-key"}


def test_list_pages_newest_first_per_owner(owners: Owners) -> None:
    tag = "t" + uuid.uuid4().hex[:8]
    made = [
        created(owners.as_alice("POST", "/urls", {"original_url": unique_url(), "tags": [tag]}))
        for _ in range(7)
    ]
    created(owners.as_bob("POST", "/urls", {"original_url": unique_url(), "tags": [tag]}))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = f"/urls?tag={tag}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = owners.as_alice("GET", query).json()
        seen.extend(item["short_code"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(link["short_code"] for link in made)
    assert len(seen) == len(set(seen)) == 7
    bobs = owners.as_bob("GET", f"/urls?tag={tag}").json()["items"]
    assert len(bobs) == 1 and bobs[0]["short_code"] not in seen
    assert owners.as_alice("GET", "/urls?limit=0").status == 400
    assert owners.as_alice("GET", "/urls?cursor=bogus").status == 400


def test_another_owner_gets_404_for_everything(owners: Owners) -> None:
    code = created(owners.as_alice("POST", "/urls", {"original_url": unique_url()}))["short_code"]
    for method, path, body in [
        ("GET", f"/urls/{code}", None),
        ("GET", f"/urls/{code}/history", None),
        ("GET", f"/urls/{code}/stats", None),
        ("PATCH", f"/urls/{code}", {"title": "mine now"}),
        ("DELETE", f"/urls/{code}", None),
    ]:
        response = owners.as_bob(method, path, body)
        assert response.status == 404, (method, path)
        assert response.json()["error"] == "NotFound"
    assert owners.as_alice("GET", f"/urls/{code}").json()["title"] is None
    for method, path in [("GET", "/urls"), ("PATCH", f"/urls/{code}"), ("DELETE", "/urls/x1y")]:
        assert owners.server.request(method, path, {"title": "x"}, key=False).status == 403


def test_idempotency_key_over_http(owners: Owners) -> None:
    key = "e2e-" + uuid.uuid4().hex
    body = {"original_url": unique_url()}
    first = owners.as_alice("POST", "/urls", body, **{"Idempotency-Key": key})
    again = owners.as_alice("POST", "/urls", body, **{"idempotency-key": key})
    assert (first.status, again.status) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    reused = owners.as_alice(
        "POST", "/urls", {"original_url": unique_url()}, **{"Idempotency-Key": key}
    )
    assert reused.status == 422 and reused.json()["error"] == "IdempotencyKeyReused"
    # The same key is another owner's own.
    theirs = owners.as_bob("POST", "/urls", body, **{"Idempotency-Key": key})
    assert theirs.status == 201 and "Idempotent-Replayed" not in theirs.headers
    assert owners.as_alice("POST", "/urls", body, **{"Idempotency-Key": ""}).status == 400

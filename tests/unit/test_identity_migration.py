"""Claiming key-owned links for a user (shared/identity/migration.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.create_url import handler as create_module
from functions.get_url import handler as get_module
from shared.identity.migration import claim_links
from shared.settings import settings
from tests.unit.events import context, event


@pytest.fixture(autouse=True)
def clients(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (create_module, get_module):
        monkeypatch.setattr(module, "dynamodb", lambda region: dynamodb)


def create(owner: str, url: str) -> str:
    response = create_module.handler(
        event("POST", "/urls", {"original_url": url}, owner=owner), context()
    )
    return json.loads(response["body"])["short_code"]


def get(path: str, owner: str) -> tuple[int, Any]:
    response = get_module.handler(event("GET", path, owner=owner), context())
    return response["statusCode"], json.loads(response["body"])


def test_a_claim_moves_every_link_of_the_key_to_the_user(dynamodb: Any) -> None:
    codes = [create("key-id-1", f"https://k{n}.example/") for n in range(3)]
    other = create("key-id-2", "https://other.example/")
    assert claim_links(dynamodb, settings(), from_owner="key-id-1", to_owner="user-1", now=1e9) == (
        3,
        0,
    )
    for code in codes:
        assert get(f"/urls/{code}", "user-1")[0] == 200
        assert get(f"/urls/{code}", "key-id-1")[0] == 404
        _, changes = get(f"/urls/{code}/history", "user-1")
        assert changes["items"][-1]["actor"] == "user-1"
        assert changes["items"][-1]["changes"] == {"owner_id": ["key-id-1", "user-1"]}
    assert get(f"/urls/{other}", "key-id-2")[0] == 200
    # Running it again moves nothing.
    assert claim_links(dynamodb, settings(), from_owner="key-id-1", to_owner="user-1", now=1e9) == (
        0,
        0,
    )


def test_a_claim_needs_two_owners(dynamodb: Any) -> None:
    with pytest.raises(ValueError):
        claim_links(dynamodb, settings(), from_owner="k", to_owner="k", now=1e9)

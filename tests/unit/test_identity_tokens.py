"""Personal tokens (shared/identity/tokens.py) against moto: hashed storage, listing,
revocation, expiry, the creation limits and the `last_used_at` granularity."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from shared.contracts.auth import LINKS_READ, SCOPES
from shared.contracts.table import PARTITION_KEY
from shared.identity.tokens import TokenError, TokenStore, token_key

NOW = 1_800_000_000.0


@pytest.fixture
def store(dynamodb: Any) -> TokenStore:
    return TokenStore(dynamodb, os.environ["SQURL_TABLE_NAME"])


def every_item(dynamodb: Any) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=os.environ["SQURL_TABLE_NAME"])["Items"]


def test_a_token_is_squrl_prefixed_high_entropy_and_stored_only_as_its_hash(
    store: TokenStore, dynamodb: Any
) -> None:
    record, secret = store.create("user-1", "ci", (LINKS_READ,), 30, NOW)
    assert secret.startswith("squrl_")
    assert len(secret) == len("squrl_") + 43  # 32 random bytes, base64url
    stored = repr(every_item(dynamodb))
    assert secret not in stored and secret[6:] not in stored
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert f"token#{digest}" in stored
    assert record.expires_at == int(NOW) + 30 * 86400
    found = store.find(secret)
    assert found is not None and found.owner == "user-1" and found.scopes == (LINKS_READ,)


def test_two_tokens_never_share_a_secret(store: TokenStore) -> None:
    secrets = {store.create("user-1", f"t{n}", SCOPES, 1, NOW)[1] for n in range(10)}
    assert len(secrets) == 10


def test_stored_items_can_never_be_a_link_or_in_an_index(store: TokenStore, dynamodb: Any) -> None:
    store.create("user-1", "ci", SCOPES, 1, NOW)
    for item in every_item(dynamodb):
        assert "#" in item["short_code"]["S"]
        assert not {"owner_id", "original_url", "expires_at"} & set(item)


def test_listing_is_by_owner_without_secrets_newest_first(store: TokenStore) -> None:
    first, _ = store.create("user-1", "one", SCOPES, 1, NOW)
    second, _ = store.create("user-1", "two", (LINKS_READ,), 1, NOW + 1)
    store.create("user-2", "theirs", SCOPES, 1, NOW)
    listed = [r.view() for r in store.list("user-1")]
    assert [v["id"] for v in listed] == [second.id, first.id]
    assert set(listed[0]) == {"id", "name", "scopes", "created_at", "expires_at", "last_used_at"}
    assert listed[0]["last_used_at"] is None


def test_revoked_tokens_are_unusable_and_unlisted(store: TokenStore) -> None:
    record, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    with pytest.raises(TokenError) as theirs:
        store.revoke("user-2", record.id, NOW)
    assert theirs.value.kind == "not_found"
    store.revoke("user-1", record.id, NOW)
    found = store.find(secret)
    assert found is not None and not found.usable(NOW)
    assert store.list("user-1") == []
    with pytest.raises(TokenError):
        store.revoke("user-1", record.id, NOW)


def test_expired_tokens_are_unusable(store: TokenStore) -> None:
    _, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    found = store.find(secret)
    assert found is not None
    assert found.usable(NOW + 86399) and not found.usable(NOW + 86400)


@pytest.mark.parametrize("credential", ["squrl_", "squrl_short", "squrl_" + "A" * 43, "nope"])
def test_unknown_or_malformed_credentials_are_not_found(store: TokenStore, credential: str) -> None:
    assert store.find(credential) is None


def test_creation_is_limited_to_20_an_hour(store: TokenStore) -> None:
    for n in range(20):
        store.create("user-1", f"t{n}", SCOPES, 1, NOW + n)
    with pytest.raises(TokenError) as limited:
        store.create("user-1", "one too many", SCOPES, 1, NOW + 30)
    assert limited.value.kind == "rate_limited"
    assert limited.value.retry_after == 3600 - 30 + 1
    # An hour after the first, one more is allowed.
    store.create("user-1", "later", SCOPES, 1, NOW + 3601)


def test_at_most_50_live_tokens(store: TokenStore) -> None:
    for n in range(50):
        store.create("user-1", f"t{n}", SCOPES, 1, NOW + n * 200)
    with pytest.raises(TokenError) as refused:
        store.create("user-1", "51st", SCOPES, 1, NOW + 50 * 200)
    assert refused.value.kind == "too_many"


def test_last_used_is_written_at_most_once_per_15_minutes(store: TokenStore) -> None:
    _, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    record = store.find(secret)
    assert record is not None
    assert store.touch(record, NOW + 10)
    assert store.list("user-1")[0].last_used_at == int(NOW + 10)
    assert not store.touch(record, NOW + 10 + 899)
    assert store.touch(record, NOW + 10 + 900)
    assert store.list("user-1")[0].view()["last_used_at"] is not None
    # A stale copy in another container does not write again either: the write is conditional.
    other = TokenStore(store.client, store.table)
    assert not other.touch(record, NOW + 10 + 901)


def test_a_use_never_brings_a_revoked_token_back(store: TokenStore) -> None:
    # Global tables resolve concurrent writes per item, last writer wins: a use recorded on the
    # token item by another region's authorizer, holding the record it read before the
    # revocation, would overwrite the revocation. The use goes to an item of its own.
    record, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    stale = store.find(secret)
    assert stale is not None and stale.usable(NOW)
    key = {PARTITION_KEY: {"S": token_key(record.digest)}}
    store.revoke("user-1", record.id, NOW + 1)
    revoked_item = store.client.get_item(TableName=store.table, Key=key)["Item"]
    assert store.touch(stale, NOW + 2)
    # The token item is exactly as the revocation left it: no write of the use reached it.
    assert store.client.get_item(TableName=store.table, Key=key)["Item"] == revoked_item
    found = store.find(secret)
    assert found is not None and found.revoked and not found.usable(NOW + 3)


def test_revoke_all(store: TokenStore) -> None:
    secrets = [store.create("user-1", f"t{n}", SCOPES, 1, NOW)[1] for n in range(3)]
    assert store.revoke_all("user-1", NOW) == 3
    assert all(not store.find(s).usable(NOW) for s in secrets)  # type: ignore[union-attr]

"""Idempotency-Key on POST /urls (docs/api.md section 7), against moto."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.links import service
from tests.unit.links_client import OTHER, TABLE, Reply, create, use_moto

BODY = {"original_url": "https://idem.example/", "ttl_hours": 24}


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def with_key(key: str, body: Any = BODY, **kwargs: Any) -> Reply:
    return create(body, headers={"Idempotency-Key": key}, **kwargs)


def items(dynamodb: Any) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=TABLE)["Items"]


def links(dynamodb: Any) -> list[str]:
    return [i["short_code"]["S"] for i in items(dynamodb) if "owner_id" in i]


def records(dynamodb: Any) -> list[dict[str, Any]]:
    return [i for i in items(dynamodb) if i["short_code"]["S"].startswith("idempotency#")]


def test_the_same_key_and_body_get_the_first_answer_again(dynamodb: Any) -> None:
    first = with_key("order-1")
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    again = with_key("order-1")
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == first.body
    assert again.headers["Location"] == first.headers["Location"]
    assert links(dynamodb) == [first.body["short_code"]]


def test_a_deduplicated_first_answer_replays_as_200(dynamodb: Any) -> None:
    # No expiry: the lifetime rule of deduplication then holds whatever the clock does.
    body = {"original_url": "https://idem.example/"}
    existing = create(body)
    assert existing.status == 201
    first = with_key("k", body)
    assert first.status == 200 and first.body["short_code"] == existing.body["short_code"]
    again = with_key("k", body)
    assert (again.status, again.headers["Idempotent-Replayed"]) == (200, "true")


def test_the_same_key_with_another_body_is_422(dynamodb: Any) -> None:
    first = with_key("order-2")
    reused = with_key("order-2", {**BODY, "ttl_hours": 48})
    assert reused.status == 422 and reused.error == "IdempotencyKeyReused"
    assert links(dynamodb) == [first.body["short_code"]]
    # The same JSON object spelled in another key order is the same body.
    same = with_key("order-2", {"ttl_hours": 24, "original_url": "https://idem.example/"})
    assert same.status == 201 and same.headers["Idempotent-Replayed"] == "true"


def test_keys_are_per_owner_and_header_names_any_case(dynamodb: Any) -> None:
    mine = create(BODY, headers={"idempotency-key": "shared"})
    theirs = create(BODY, headers={"IDEMPOTENCY-KEY": "shared"}, owner=OTHER)
    assert mine.status == theirs.status == 201
    assert mine.body["short_code"] != theirs.body["short_code"]
    assert create(BODY, headers={"IdEmPoTeNcY-kEy": "shared"}).headers["Idempotent-Replayed"]
    assert len(records(dynamodb)) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there", "nul\x00", "del\x7f"], ids=repr)
def test_a_bad_key_is_400_and_nothing_is_stored(dynamodb: Any, key: str) -> None:
    reply = with_key(key)
    assert reply.status == 400 and reply.error == "ValidationError"
    assert reply.body["details"] == {"reason": "format", "field": "Idempotency-Key"}
    assert items(dynamodb) == []


def test_key_limits_are_inclusive(dynamodb: Any) -> None:
    assert with_key("k").status == 201
    assert with_key(" !~" + "x" * 252, {"original_url": "https://other.example/"}).status == 201


def test_a_bad_body_with_a_key_stores_nothing(dynamodb: Any) -> None:
    for body in ({"original_url": "javascript:x"}, {"original_url": "https://x/", "nope": 1}):
        assert with_key("k", body).status == 400
    assert items(dynamodb) == []


def test_an_error_answer_is_not_kept(dynamodb: Any) -> None:
    create({"original_url": "https://a.example/", "custom_code": "taken"})
    body = {"original_url": "https://b.example/", "custom_code": "taken"}
    assert with_key("retry-me", body).status == 409
    assert records(dynamodb) == []
    # The failed attempt did nothing, so the key is free for the retry.
    fixed = {"original_url": "https://b.example/", "custom_code": "free1"}
    assert with_key("retry-me", fixed).status == 201


def test_a_record_lives_24_hours_in_the_tables_ttl_attribute(dynamodb: Any) -> None:
    started = int(time.time())
    with_key("day")
    finished = int(time.time())
    (record,) = records(dynamodb)
    assert started + 86400 <= int(record["expires_at"]["N"]) <= finished + 86400
    # Its own attribute names: never a link's status, never an owner or URL key of an index.
    assert record["idempotency_status"]["S"] == "COMPLETED"
    for attribute in ("status", "owner_id", "original_url", "created_at"):
        assert attribute not in record
    # After the 24 hours (even before TTL deletes the record) the key makes a new link.
    dynamodb.update_item(
        TableName=TABLE,
        Key={"short_code": record["short_code"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(started - 1)}},
    )
    later = with_key("day", {"original_url": "https://later.example/"})
    assert later.status == 201 and "Idempotent-Replayed" not in later.headers


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real = service.create_prepared

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(timeout=10)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "create_prepared", slow_create)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(with_key, "race")
        assert entered.wait(timeout=10)
        duplicate = with_key("race")
        other_body = with_key("race", {"original_url": "https://else.example/"})
        release.set()
        winner = first.result(timeout=10)
    assert duplicate.status == 409 and duplicate.error == "IdempotencyConflict"
    assert other_body.status == 422
    assert winner.status == 201
    monkeypatch.setattr(service, "create_prepared", real)
    assert with_key("race").headers["Idempotent-Replayed"] == "true"
    assert links(dynamodb) == [winner.body["short_code"]]


def test_concurrent_creates_with_one_key_make_one_link(dynamodb: Any) -> None:
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: with_key("stampede"), range(8)))
    created = [r for r in replies if r.status == 201 and "Idempotent-Replayed" not in r.headers]
    assert len(created) == 1
    for reply in replies:
        assert reply.status in (201, 409)
        if reply.status == 201:
            assert reply.body["short_code"] == created[0].body["short_code"]
    assert links(dynamodb) == [created[0].body["short_code"]]

"""POST /urls/bulk (docs/api.md section 9): 1..100 create bodies, one result each, in order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.links_client import OTHER, TABLE, Reply, call, get, use_moto


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def bulk(body: Any, **kwargs: Any) -> Reply:
    return call("POST", "/urls/bulk", body, **kwargs)


def links(dynamodb: Any) -> list[str]:
    items = dynamodb.scan(TableName=TABLE)["Items"]
    return sorted(i["short_code"]["S"] for i in items if "owner_id" in i)


def test_each_item_gets_its_own_result_in_order(dynamodb: Any) -> None:
    reply = bulk(
        {
            "items": [
                {"original_url": "https://a.example/1"},
                {"original_url": "javascript:alert(1)"},
                {"original_url": "https://a.example/2", "custom_code": "bulk-two"},
                {"original_url": "https://a.example/3", "unknown": 1},
                {"original_url": "https://a.example/1"},
                "not an object",
            ]
        }
    )
    assert reply.status == 200
    results = reply.body["results"]
    assert [r["status"] for r in results] == [201, 400, 201, 400, 200, 400]
    assert results[0]["link"]["original_url"] == "https://a.example/1"
    assert results[1]["error"]["error"] == "InvalidUrl"
    assert results[1]["error"]["details"]["reason"] == "invalid_scheme"
    assert results[2]["link"]["short_code"] == "bulk-two"
    assert results[3]["error"] == {
        "error": "ValidationError",
        "message": "Unknown field 'unknown'.",
        "details": {"reason": "unknown_field", "field": "unknown"},
    }
    # The same URL twice in one request is one link, as two single creates would make.
    assert results[4]["link"]["short_code"] == results[0]["link"]["short_code"]
    assert results[5]["error"]["details"]["reason"] == "not_an_object"
    assert links(dynamodb) == sorted([results[0]["link"]["short_code"], "bulk-two"])
    # Each created link is an ordinary link of the caller.
    assert get("bulk-two").status == 200
    assert get("bulk-two", owner=OTHER).status == 404


def test_a_taken_custom_code_is_that_items_409(dynamodb: Any) -> None:
    bulk({"items": [{"original_url": "https://a.example/", "custom_code": "taken"}]})
    reply = bulk(
        {
            "items": [
                {"original_url": "https://b.example/", "custom_code": "taken"},
                {"original_url": "https://b.example/", "custom_code": "urls"},
                {"original_url": "https://c.example/"},
            ]
        }
    )
    assert [r["status"] for r in reply.body["results"]] == [409, 400, 201]
    assert reply.body["results"][0]["error"]["error"] == "ConflictError"
    assert reply.body["results"][1]["error"]["details"]["reason"] == "reserved"


@pytest.mark.parametrize("count", [0, 101])
def test_zero_or_101_items_is_400_and_nothing_is_stored(dynamodb: Any, count: int) -> None:
    items = [{"original_url": f"https://n.example/{i}"} for i in range(count)]
    reply = bulk({"items": items})
    assert reply.status == 400
    assert reply.error == "ValidationError"
    assert reply.body["details"] == {"reason": "out_of_range", "field": "items"}
    assert links(dynamodb) == []


def test_100_items_are_allowed(dynamodb: Any) -> None:
    items = [{"original_url": f"https://n.example/{i}"} for i in range(100)]
    reply = bulk({"items": items})
    assert reply.status == 200
    assert [r["status"] for r in reply.body["results"]] == [201] * 100
    assert len(links(dynamodb)) == 100


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        ({}, "required", "items"),
        ({"items": {"original_url": "https://x.example/"}}, "type", "items"),
        ({"items": [{"original_url": "https://x.example/"}], "more": 1}, "unknown_field", "more"),
        (b"[1]", "not_an_object", None),
        (b"{", "invalid_json", None),
    ],
)
def test_a_bad_envelope_is_400(dynamodb: Any, body: Any, reason: str, field: str | None) -> None:
    reply = bulk(body)
    assert reply.status == 400
    assert reply.error == "ValidationError"
    assert reply.body["details"]["reason"] == reason
    assert reply.body["details"].get("field") == field
    assert links(dynamodb) == []


def test_an_item_over_8_kib_is_that_items_413(dynamodb: Any) -> None:
    long_title = {"original_url": "https://x.example/", "title": "t" * 9000}
    reply = bulk({"items": [long_title, {"original_url": "https://y.example/"}]})
    assert reply.status == 200
    results = reply.body["results"]
    assert results[0]["status"] == 413
    assert results[0]["error"]["error"] == "PayloadTooLarge"
    assert results[1]["status"] == 201


def test_a_body_over_1_mib_is_413_and_nothing_is_stored(dynamodb: Any) -> None:
    item = {"original_url": "https://x.example/" + "a" * 1000}
    body = json.dumps({"items": [item] * 100, "pad": " " * (1024 * 1024)}).encode()
    assert len(body) > 1024 * 1024
    reply = bulk(body)
    assert reply.status == 413
    assert reply.error == "PayloadTooLarge"
    assert links(dynamodb) == []


def test_100_items_at_the_single_create_limit_fit_in_the_bulk_limit(dynamodb: Any) -> None:
    # Each item is a create body just under 8 KiB; the request is under 1 MiB.
    item = {"original_url": "https://x.example/", "title": "t", "pad": "p" * 8100}
    body = json.dumps({"items": [item] * 100}).encode()
    assert len(json.dumps(item, separators=(",", ":")).encode()) <= 8 * 1024
    assert len(body) <= 1024 * 1024
    reply = bulk(body)
    assert reply.status == 200
    # Within the size limit, so each item is judged on its fields (pad is unknown).
    assert {r["error"]["details"]["reason"] for r in reply.body["results"]} == {"unknown_field"}


def test_an_idempotency_key_replays_the_whole_answer(dynamodb: Any) -> None:
    body = {"items": [{"original_url": "https://i.example/1"}, {"original_url": "ftp://x/"}]}
    first = bulk(body, headers={"Idempotency-Key": "bulk-1"})
    again = bulk(body, headers={"Idempotency-Key": "bulk-1"})
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(links(dynamodb)) == 1
    other = bulk(
        {"items": [{"original_url": "https://i.example/2"}]}, headers={"Idempotency-Key": "bulk-1"}
    )
    assert other.status == 422
    assert other.error == "IdempotencyKeyReused"
    assert len(links(dynamodb)) == 1


def test_bulk_needs_a_key(dynamodb: Any) -> None:
    from devserver.gateway import Gateway

    gateway = Gateway("k")
    result = gateway.handle("POST", "/urls/bulk", {}, b'{"items": []}', "198.51.100.1")
    assert result.status == 403

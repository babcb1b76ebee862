"""The store's order and paging over large partitions: DynamoDB's key order (S by UTF-8 bytes,
N by value, B by bytes), Query both ways in Limit pages, Scan pages, index partitions that items
move between, and the same answers after a restart from the log and from a snapshot."""

from __future__ import annotations

import base64
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from devserver.store import DynamoError, Store

TABLE = "order-test"
ITEMS_IN_ONE_PARTITION = 5000
PAGE = 333
MAX_PAGE_BYTES = 1024 * 1024


def definition() -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
            {"AttributeName": "blob", "AttributeType": "B"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-rank",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-blob",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "blob", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    }


def open_store(path: Path | None = None, **kwargs: Any) -> Store:
    store = Store(path, **kwargs)
    store.ensure_table(definition())
    return store


def put(store: Store, item: dict[str, Any]) -> None:
    store.call("PutItem", {"TableName": TABLE, "Item": item})


def pages(store: Store, operation: str, request: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every page of a Query or Scan, following LastEvaluatedKey."""
    found = []
    start = None
    while True:
        page_request = dict(request, TableName=TABLE)
        if start is not None:
            page_request["ExclusiveStartKey"] = start
        response = store.call(operation, page_request)
        found.append(response["Items"])
        start = response.get("LastEvaluatedKey")
        if start is None:
            return found


def flat(found: list[list[dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(item["pk"]["S"], item["sk"]["S"]) for page in found for item in page]


def ranked_items(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` items of owner "one", ranks with repeats, negatives and fractions, shuffled."""
    shuffler = random.Random(seed)
    items = []
    for i in range(count):
        rank = Decimal(shuffler.randrange(-500, 500)) / Decimal(shuffler.choice((1, 4, 10)))
        items.append(
            {
                "pk": {"S": f"p{i % 7}"},
                "sk": {"S": f"s{i:05d}"},
                "owner": {"S": "one"},
                "rank": {"N": str(rank)},
            }
        )
    shuffler.shuffle(items)
    return items


def by_rank(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """DynamoDB's index order: the index sort key by value, then the table key."""
    ordered = sorted(
        items, key=lambda item: (Decimal(item["rank"]["N"]), item["pk"]["S"], item["sk"]["S"])
    )
    return [(item["pk"]["S"], item["sk"]["S"]) for item in ordered]


@pytest.fixture(scope="module")
def large() -> tuple[Store, list[dict[str, Any]]]:
    store = open_store()
    items = ranked_items(ITEMS_IN_ONE_PARTITION, seed=7)
    for item in items:
        put(store, item)
    return store, items


@pytest.mark.parametrize("forward", [True, False])
def test_a_large_index_partition_is_read_in_order_in_limit_pages(
    large: tuple[Store, list[dict[str, Any]]], forward: bool
) -> None:
    store, items = large
    found = pages(
        store,
        "Query",
        {
            "IndexName": "by-rank",
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": "one"}},
            "Limit": PAGE,
            "ScanIndexForward": forward,
        },
    )
    expected = by_rank(items)
    assert flat(found) == (expected if forward else expected[::-1])
    assert [len(page) for page in found[:-1]] == [PAGE] * (ITEMS_IN_ONE_PARTITION // PAGE)
    assert len(found[-1]) == ITEMS_IN_ONE_PARTITION % PAGE


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize(
    ("condition", "values", "keep"),
    [
        ("BETWEEN :a AND :b", {":a": "-10.5", ":b": "20"}, lambda r: -10.5 <= r <= 20),
        ("< :a", {":a": "-3"}, lambda r: r < -3),
        ("<= :a", {":a": "-3"}, lambda r: r <= -3),
        ("> :a", {":a": "7.25"}, lambda r: r > 7.25),
        (">= :a", {":a": "7.25"}, lambda r: r >= 7.25),
        ("= :a", {":a": "12"}, lambda r: r == 12),
    ],
)
def test_sort_key_conditions_page_both_ways(
    large: tuple[Store, list[dict[str, Any]]],
    forward: bool,
    condition: str,
    values: dict[str, str],
    keep: Any,
) -> None:
    store, items = large
    found = pages(
        store,
        "Query",
        {
            "IndexName": "by-rank",
            "KeyConditionExpression": f"#o = :o AND #r {condition}",
            "ExpressionAttributeNames": {"#o": "owner", "#r": "rank"},
            "ExpressionAttributeValues": {
                ":o": {"S": "one"},
                **{name: {"N": value} for name, value in values.items()},
            },
            "Limit": 97,
            "ScanIndexForward": forward,
        },
    )
    expected = by_rank([item for item in items if keep(float(item["rank"]["N"]))])
    assert expected, "the condition must select something for the test to mean anything"
    assert flat(found) == (expected if forward else expected[::-1])


def test_strings_sort_by_utf8_bytes_and_begins_with_pages() -> None:
    store = open_store()
    words = ["a", "ab", "abc", "ab\u00e9", "ab\uffff", "ab\U0001f600", "aB", "b", "\u00e9", "z"]
    words += [f"ab{i:03d}" for i in range(300)]
    random.Random(3).shuffle(words)
    for word in words:
        put(store, {"pk": {"S": "words"}, "sk": {"S": word}})
    for forward in (True, False):
        everything = pages(
            store,
            "Query",
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "words"}},
                "Limit": 13,
                "ScanIndexForward": forward,
            },
        )
        expected = sorted(words, key=lambda word: word.encode("utf-8"))
        assert [sk for _, sk in flat(everything)] == (expected if forward else expected[::-1])
        prefixed = pages(
            store,
            "Query",
            {
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :b)",
                "ExpressionAttributeValues": {":p": {"S": "words"}, ":b": {"S": "ab"}},
                "Limit": 13,
                "ScanIndexForward": forward,
            },
        )
        expected = [word for word in expected if word.startswith("ab")]
        assert len(expected) == 305  # "ab" itself, four longer words, ab000..ab299
        assert [sk for _, sk in flat(prefixed)] == (expected if forward else expected[::-1])


def test_binary_index_keys_sort_by_bytes_and_items_without_them_are_not_indexed() -> None:
    store = open_store()
    shuffler = random.Random(5)
    blobs = [
        bytes(shuffler.randrange(256) for _ in range(shuffler.randrange(1, 4))) for _ in range(600)
    ]
    blobs = sorted(set(blobs))
    shuffled = list(enumerate(blobs))
    shuffler.shuffle(shuffled)
    for i, blob in shuffled:
        put(
            store,
            {
                "pk": {"S": f"b{i:04d}"},
                "sk": {"S": "x"},
                "owner": {"S": "one"},
                "blob": {"B": base64.b64encode(blob).decode()},
            },
        )
    put(store, {"pk": {"S": "no-blob"}, "sk": {"S": "x"}, "owner": {"S": "one"}})
    for forward in (True, False):
        found = pages(
            store,
            "Query",
            {
                "IndexName": "by-blob",
                "KeyConditionExpression": "#o = :o",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":o": {"S": "one"}},
                "Limit": 50,
                "ScanIndexForward": forward,
            },
        )
        got = [base64.b64decode(item["blob"]["B"]) for page in found for item in page]
        assert got == (blobs if forward else blobs[::-1])
    scanned = [
        item
        for page in pages(store, "Scan", {"IndexName": "by-blob", "Limit": 64})
        for item in page
    ]
    assert len(scanned) == len(blobs)
    assert all("blob" in item for item in scanned)


def test_updates_and_deletes_move_items_between_index_partitions() -> None:
    store = open_store()
    for i in range(400):
        put(
            store,
            {
                "pk": {"S": f"m{i:03d}"},
                "sk": {"S": "x"},
                "owner": {"S": "a"},
                "rank": {"N": str(i)},
            },
        )

    def ranks(owner: str, forward: bool = True) -> list[str]:
        found = pages(
            store,
            "Query",
            {
                "IndexName": "by-rank",
                "KeyConditionExpression": "#o = :o",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":o": {"S": owner}},
                "Limit": 37,
                "ScanIndexForward": forward,
            },
        )
        return [item["rank"]["N"] for page in found for item in page]

    for i in range(0, 400, 2):  # every even item moves to owner b
        store.call(
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": f"m{i:03d}"}, "sk": {"S": "x"}},
                "UpdateExpression": "SET #o = :b",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": {":b": {"S": "b"}},
            },
        )
    assert ranks("a") == [str(i) for i in range(1, 400, 2)]
    assert ranks("b", forward=False) == [str(i) for i in range(398, -1, -2)]
    for i in range(1, 400, 4):  # a quarter of a's items are deleted
        store.call(
            "DeleteItem", {"TableName": TABLE, "Key": {"pk": {"S": f"m{i:03d}"}, "sk": {"S": "x"}}}
        )
    for i in range(3, 400, 4):  # and the others lose the index's sort key
        store.call(
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": f"m{i:03d}"}, "sk": {"S": "x"}},
                "UpdateExpression": "REMOVE #r",
                "ExpressionAttributeNames": {"#r": "rank"},
            },
        )
    assert ranks("a") == []
    assert store.retained()["index_entries"] == 200  # b's items in by-rank; by-blob holds none
    with pytest.raises(DynamoError) as cancelled:
        store.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": "m000"}, "sk": {"S": "x"}},
                            "UpdateExpression": "SET #o = :a",
                            "ExpressionAttributeNames": {"#o": "owner"},
                            "ExpressionAttributeValues": {":a": {"S": "a"}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": "m001"}, "sk": {"S": "x"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            },
        )
    assert cancelled.value.code == "TransactionCanceledException"
    assert ranks("a") == []
    assert ranks("b")[:2] == ["0", "2"]


def test_scan_pages_cover_the_table_once_in_key_order() -> None:
    store = open_store()
    keys = [(f"p{i % 37:02d}", f"s{i:04d}") for i in range(2000)]
    shuffled = list(keys)
    random.Random(11).shuffle(shuffled)
    for pk, sk in shuffled:
        put(store, {"pk": {"S": pk}, "sk": {"S": sk}})
    found = pages(store, "Scan", {"Limit": 123})
    assert flat(found) == sorted(keys)
    assert all(len(page) == 123 for page in found[:-1])
    segments = [
        flat(pages(store, "Scan", {"Limit": 50, "Segment": s, "TotalSegments": 3}))
        for s in range(3)
    ]
    assert sorted(key for segment in segments for key in segment) == sorted(keys)


def test_pages_stop_at_one_megabyte() -> None:
    store = open_store()
    for i in range(30):
        put(store, {"pk": {"S": "big"}, "sk": {"S": f"{i:02d}"}, "pad": {"S": "x" * 100_000}})
    for forward in (True, False):
        found = pages(
            store,
            "Query",
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "big"}},
                "ScanIndexForward": forward,
            },
        )
        assert [len(page) for page in found] == [11, 11, 8]  # 100 kB items: the 11th passes 1 MB
        expected = [f"{i:02d}" for i in range(30)]
        assert [sk for _, sk in flat(found)] == (expected if forward else expected[::-1])


def test_a_restart_from_the_log_and_from_a_snapshot_answers_the_same(tmp_path: Path) -> None:
    items = ranked_items(3000, seed=13)
    query = {
        "IndexName": "by-rank",
        "KeyConditionExpression": "#o = :o",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":o": {"S": "one"}},
        "Limit": 250,
    }
    answers = []
    for name, compact_bytes in (("log", 1 << 40), ("snapshot", 64 * 1024)):
        store = open_store(tmp_path / name, compact_bytes=compact_bytes)
        for item in items:
            put(store, item)
        for item in items[:500]:  # deletes and moves are replayed too
            store.call(
                "DeleteItem", {"TableName": TABLE, "Key": {"pk": item["pk"], "sk": item["sk"]}}
            )
        live = (flat(pages(store, "Query", query)), flat(pages(store, "Scan", {"Limit": 400})))
        store.close()
        again = open_store(tmp_path / name, compact_bytes=compact_bytes)
        restarted = (flat(pages(again, "Query", query)), flat(pages(again, "Scan", {"Limit": 400})))
        again.close()
        assert restarted == live
        answers.append(live)
    assert answers[0] == answers[1]
    assert answers[0][0] == by_rank(items[500:])


def test_snapshots_wait_for_as_many_log_bytes_as_the_last_snapshot_holds(tmp_path: Path) -> None:
    """A snapshot costs the size of the table: taken every `compact_bytes` of log, its cost per
    write would grow with the table (an import of N rows would write O(N^2) bytes of snapshots).
    Once the last snapshot is larger than `compact_bytes`, the log grows to its size first."""
    compact_bytes = 4 * 1024
    store = open_store(tmp_path, compact_bytes=compact_bytes)
    pad = "x" * 1000
    for i in range(300):  # a table of about 300 kB, snapshotted on the way (last at 272 kB)
        put(store, {"pk": {"S": f"t{i:03d}"}, "sk": {"S": "x"}, "pad": {"S": pad}})
    if store._compaction is not None:
        store._compaction.join()
    assert store._log is not None
    snapshot = max(tmp_path.glob("snapshot-*.jsonl"))
    assert snapshot.stat().st_size > 200_000
    segment = store._log.number
    for i in range(60):  # 60 kB of log: fifteen snapshots at a fixed 4 kB threshold
        put(store, {"pk": {"S": f"t{i:03d}"}, "sk": {"S": "x"}, "pad": {"S": pad[:-1]}})
    assert store._log.number == segment
    assert compact_bytes < store.retained()["log_bytes"] < snapshot.stat().st_size
    store.close()
    again = open_store(tmp_path)
    assert len(flat(pages(again, "Scan", {}))) == 300
    again.close()

"""The local server's DynamoDB store: DynamoDB's semantics for what squrl uses, durability
across restarts and torn writes, and memory that does not grow with the number of writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from devserver.store import DynamoError, Store, StoreError
from devserver.store.log import WAL_MAGIC, read_segment, snapshot_name, wal_name
from shared.contracts import table

TABLE = "squrl-urls-store"
MAX_CODES_PER_TRANSACTION = 49  # shared/clicks/counter.py: a checkpoint plus two actions per code


def open_store(path: Path | None, **kwargs: Any) -> Store:
    store = Store(path, **kwargs)
    store.ensure_table(
        table.create_table_request(TABLE), table.ttl_request(TABLE)["TimeToLiveSpecification"]
    )
    return store


def link(code: str, url: str = "https://example.com/", created: str = "2024-01-01T00:00:00Z"):
    return {
        "short_code": {"S": code},
        "original_url": {"S": url},
        "created_at": {"S": created},
        "owner_id": {"S": "owner"},
        "status": {"S": "active"},
        "redirect_type": {"N": "301"},
        "click_count": {"N": "0"},
    }


def put_new(store: Store, item: dict[str, Any]) -> None:
    store.call(
        "PutItem",
        {
            "TableName": TABLE,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "short_code"},
        },
    )


def get(store: Store, code: str) -> dict[str, Any] | None:
    response = store.call("GetItem", {"TableName": TABLE, "Key": {"short_code": {"S": code}}})
    return response.get("Item")


def click_transaction(codes: list[str], sequence: int) -> dict[str, Any]:
    """The click consumer's shape: the checkpoint moved, one ADD on each link and stats item."""
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"short_code": {"S": "checkpoint#s#0"}},
                "UpdateExpression": "SET #seq = :seq",
                "ExpressionAttributeNames": {"#seq": "seq"},
                "ExpressionAttributeValues": {":seq": {"S": f"{sequence:010d}"}},
            }
        }
    ]
    for code in codes:
        actions.append(
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"short_code": {"S": code}},
                    "UpdateExpression": "ADD #human :one",
                    "ConditionExpression": "attribute_exists(#pk)",
                    "ExpressionAttributeNames": {"#human": "click_count", "#pk": "short_code"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        )
        actions.append(
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"short_code": {"S": f"stats#{code}"}},
                    "UpdateExpression": "ADD #0 :0, #1 :0",
                    "ExpressionAttributeNames": {"#0": "d:2024-01-01", "#1": "c:DE"},
                    "ExpressionAttributeValues": {":0": {"N": "1"}},
                }
            }
        )
    return {"TransactItems": actions}


# --- semantics -------------------------------------------------------------------------------


def test_a_conditional_put_claims_a_code_once() -> None:
    store = open_store(None)
    put_new(store, link("abc123"))
    with pytest.raises(DynamoError) as taken:
        put_new(store, link("abc123", "https://other.example/"))
    assert taken.value.code == "ConditionalCheckFailedException"
    assert get(store, "abc123") == link("abc123")


def test_numbers_are_stored_in_canonical_form_and_add_counts() -> None:
    store = open_store(None)
    put_new(store, {**link("n1"), "click_count": {"N": "007.50"}})
    assert get(store, "n1")["click_count"] == {"N": "7.5"}  # type: ignore[index]
    store.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": {"short_code": {"S": "n1"}},
            "UpdateExpression": "ADD #c :n SET #t = if_not_exists(#t, :zero) + :n",
            "ExpressionAttributeNames": {"#c": "click_count", "#t": "total"},
            "ExpressionAttributeValues": {":n": {"N": "2.5"}, ":zero": {"N": "0"}},
        },
    )
    item = get(store, "n1")
    assert item is not None
    assert item["click_count"] == {"N": "10"} and item["total"] == {"N": "2.5"}


def test_a_cancelled_transaction_changes_nothing_and_says_which_action_failed() -> None:
    store = open_store(None)
    put_new(store, link("live0001"))
    request = click_transaction(["live0001", "gone0001"], 1)
    with pytest.raises(DynamoError) as cancelled:
        store.call("TransactWriteItems", request)
    assert cancelled.value.code == "TransactionCanceledException"
    codes = [r["Code"] for r in cancelled.value.extra["CancellationReasons"]]
    # checkpoint, live link, its stats, missing link (condition), its stats
    assert codes == ["None", "None", "None", "ConditionalCheckFailed", "None"]
    assert get(store, "live0001") == link("live0001")
    assert get(store, "checkpoint#s#0") is None and get(store, "stats#live0001") is None


def test_a_transaction_may_touch_an_item_once() -> None:
    store = open_store(None)
    put_new(store, link("twice001"))
    request = click_transaction(["twice001"], 1)
    request["TransactItems"].append(request["TransactItems"][1])
    with pytest.raises(DynamoError) as refused:
        store.call("TransactWriteItems", request)
    assert refused.value.code == "ValidationException"


def test_an_update_past_400_kb_cancels_with_a_validation_reason() -> None:
    store = open_store(None)
    put_new(store, {**link("big00001"), "blob": {"S": "x" * (399 * 1024)}})
    request = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"short_code": {"S": "big00001"}},
                    "UpdateExpression": "SET #more = :more",
                    "ExpressionAttributeNames": {"#more": "more"},
                    "ExpressionAttributeValues": {":more": {"S": "y" * 4096}},
                }
            }
        ]
    }
    with pytest.raises(DynamoError) as cancelled:
        store.call("TransactWriteItems", request)
    assert cancelled.value.extra["CancellationReasons"][0]["Code"] == "ValidationError"


def test_the_dedup_index_is_queried_newest_first_with_its_projection() -> None:
    store = open_store(None)
    url = "https://example.com/same"
    for code, created in (("old00001", "2024-01-01"), ("new00001", "2024-03-01")):
        put_new(store, {**link(code, url, created), "title": {"S": "not projected"}})
    put_new(store, link("other001", "https://example.com/else", "2024-02-01"))
    response = store.call(
        "Query",
        {
            "TableName": TABLE,
            "IndexName": table.DEDUP_INDEX,
            "KeyConditionExpression": "#url = :url",
            "FilterExpression": "#status = :active",
            "ExpressionAttributeNames": {"#url": "original_url", "#status": "status"},
            "ExpressionAttributeValues": {":url": {"S": url}, ":active": {"S": "active"}},
            "ScanIndexForward": False,
        },
    )
    assert [item["short_code"]["S"] for item in response["Items"]] == ["new00001", "old00001"]
    assert all("title" not in item and "click_count" not in item for item in response["Items"])


def test_query_pages_with_limit_and_exclusive_start_key() -> None:
    store = open_store(None)
    url = "https://example.com/paged"
    for day in range(1, 6):
        put_new(store, link(f"page{day:04d}", url, f"2024-01-0{day}"))
    seen: list[str] = []
    request: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": table.DEDUP_INDEX,
        "KeyConditionExpression": "#url = :url AND #created > :after",
        "ExpressionAttributeNames": {"#url": "original_url", "#created": "created_at"},
        "ExpressionAttributeValues": {":url": {"S": url}, ":after": {"S": "2024-01-01"}},
        "Limit": 2,
    }
    while True:
        response = store.call("Query", request)
        seen += [item["short_code"]["S"] for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    assert seen == ["page0002", "page0003", "page0004", "page0005"]


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"ProjectionExpression": "status"}, "reserved keyword"),
        (
            {"ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": "x", "#b": "y"}},
            "unused in expressions",
        ),
        ({"ProjectionExpression": "#a"}, "not defined"),
        ({"Key": {"short_code": {"N": "1"}}}, "does not match the schema"),
    ],
)
def test_requests_dynamodb_refuses_are_refused(request_fields: dict[str, Any], message: str):
    store = open_store(None)
    request = {"TableName": TABLE, "Key": {"short_code": {"S": "abc"}}, **request_fields}
    with pytest.raises(DynamoError) as refused:
        store.call("GetItem", request)
    assert refused.value.code == "ValidationException"
    assert message in refused.value.message


def test_projection_of_nested_paths_and_list_elements() -> None:
    store = open_store(None)
    put_new(
        store,
        {
            **link("nested01"),
            "meta": {"M": {"a": {"S": "1"}, "b": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]}}},
        },
    )
    response = store.call(
        "GetItem",
        {
            "TableName": TABLE,
            "Key": {"short_code": {"S": "nested01"}},
            "ProjectionExpression": "meta.b[2], meta.b[0], short_code",
        },
    )
    assert response["Item"] == {
        "short_code": {"S": "nested01"},
        "meta": {"M": {"b": {"L": [{"S": "x"}, {"S": "z"}]}}},
    }


# --- durability ------------------------------------------------------------------------------


def test_everything_written_is_there_after_a_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for index in range(20):
        put_new(store, link(f"keep{index:04d}"))
    store.call("TransactWriteItems", click_transaction(["keep0001", "keep0002"], 1))
    store.call("DeleteItem", {"TableName": TABLE, "Key": {"short_code": {"S": "keep0019"}}})
    before = {code: get(store, code) for code in ("keep0001", "stats#keep0002", "keep0019")}
    store.close()

    again = open_store(tmp_path)
    assert {code: get(again, code) for code in before} == before
    assert get(again, "keep0001")["click_count"] == {"N": "1"}  # type: ignore[index]
    assert again.retained()["items"] == 19 + 1 + 2  # links, checkpoint, stats items
    again.close()


def test_a_torn_last_record_is_ignored_and_cut_off(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for index in range(5):
        put_new(store, link(f"torn{index:04d}"))
    store.close()
    log = tmp_path / wal_name(1)
    whole = log.stat().st_size
    # A crash in the middle of appending a sixth record: its header and half its payload.
    with open(log, "ab") as out:
        out.write(b"\x00\x00\x01\x00\x12\x34\x56\x78" + b'{"w":[["squrl-urls-store",')

    recovered = open_store(tmp_path)
    assert recovered.torn_bytes == log.stat().st_size - whole or recovered.torn_bytes > 0
    assert all(get(recovered, f"torn{index:04d}") is not None for index in range(5))
    put_new(recovered, link("after001"))  # appended after the good records, not the torn bytes
    recovered.close()

    assert read_segment(log, 1).torn is False
    final = open_store(tmp_path)
    assert get(final, "after001") == link("after001") and final.torn_bytes == 0
    final.close()


def test_a_last_record_with_a_bad_checksum_is_ignored(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    put_new(store, link("good0001"))
    put_new(store, link("flip0001"))
    store.close()
    log = tmp_path / wal_name(1)
    data = bytearray(log.read_bytes())
    data[-3] ^= 0xFF  # one flipped byte inside the last record's payload
    log.write_bytes(bytes(data))

    recovered = open_store(tmp_path)
    assert get(recovered, "good0001") is not None
    assert get(recovered, "flip0001") is None  # never acknowledged as a whole record
    recovered.close()


def test_damage_before_the_end_of_the_log_refuses_to_start(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for index in range(10):
        put_new(store, link(f"dmg{index:05d}"))
    store.close()
    first = tmp_path / wal_name(1)
    # A later segment exists, so the first one's records were all acknowledged: a record cut
    # short there is damage, not a write a crash interrupted.
    (tmp_path / wal_name(2)).write_bytes(first.read_bytes()[: len(WAL_MAGIC)])
    first.write_bytes(first.read_bytes()[:-10])
    with pytest.raises(StoreError, match="damaged"):
        open_store(tmp_path)


def test_snapshots_bound_the_log_and_keep_every_item(tmp_path: Path) -> None:
    compact_bytes = 8 * 1024
    store = open_store(tmp_path, compact_bytes=compact_bytes)
    codes = [f"snap{index:04d}" for index in range(MAX_CODES_PER_TRANSACTION)]
    for code in codes:
        put_new(store, link(code))
    for sequence in range(1, 41):
        store.call("TransactWriteItems", click_transaction(codes, sequence))
        if store._compaction is not None:
            store._compaction.join()
        files = {path.name: path.stat().st_size for path in tmp_path.iterdir()}
        # Never more than the open segment, the one a snapshot is replacing, and a snapshot.
        assert len([name for name in files if name.startswith("wal-")]) <= 2
        assert len([name for name in files if name.startswith("snapshot-")]) <= 1
    assert store.retained()["log_bytes"] < compact_bytes + 64 * 1024
    snapshots = sorted(tmp_path.glob("snapshot-*.jsonl"))
    assert snapshots and snapshots[-1].name == snapshot_name(int(snapshots[-1].stem[9:]))
    expected = {code: get(store, code) for code in codes}
    store.close()

    again = open_store(tmp_path)
    assert {code: get(again, code) for code in codes} == expected
    assert get(again, codes[0])["click_count"] == {"N": "40"}  # type: ignore[index]
    again.close()


def test_one_server_per_data_directory(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    with pytest.raises(StoreError, match="in use"):
        Store(tmp_path)
    first.close()
    Store(tmp_path).close()


def test_fresh_starts_empty(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    put_new(store, link("fresh001"))
    store.close()
    fresh = open_store(tmp_path, fresh=True)
    assert get(fresh, "fresh001") is None
    fresh.close()
    reopened = open_store(tmp_path)
    assert get(reopened, "fresh001") is None
    reopened.close()


def test_a_changed_index_definition_keeps_the_items_and_fills_the_index(tmp_path: Path) -> None:
    request = table.create_table_request(TABLE)
    without_index = {k: v for k, v in request.items() if k != "GlobalSecondaryIndexes"}
    without_index["AttributeDefinitions"] = [
        d for d in request["AttributeDefinitions"] if d["AttributeName"] == "short_code"
    ]
    store = Store(tmp_path)
    store.ensure_table(without_index)
    put_new(store, link("idx00001", "https://example.com/indexed"))
    store.close()

    store = open_store(tmp_path)  # now with the dedup index
    response = store.call(
        "Query",
        {
            "TableName": TABLE,
            "IndexName": table.DEDUP_INDEX,
            "KeyConditionExpression": "#url = :url",
            "ExpressionAttributeNames": {"#url": "original_url"},
            "ExpressionAttributeValues": {":url": {"S": "https://example.com/indexed"}},
        },
    )
    assert [item["short_code"]["S"] for item in response["Items"]] == ["idx00001"]
    store.close()


# --- memory ----------------------------------------------------------------------------------


def test_transactions_retain_nothing_but_the_items(tmp_path: Path) -> None:
    """Moto kept a stream record per write and copied the table per action: memory grew with
    every click batch. Here thousands of transactions on the same codes leave the store holding
    exactly what one did, and the log bounded by its snapshot threshold."""
    compact_bytes = 256 * 1024
    store = open_store(tmp_path, compact_bytes=compact_bytes)
    codes = [f"mem{index:05d}" for index in range(MAX_CODES_PER_TRANSACTION)]
    for code in codes:
        put_new(store, link(code))
    store.call("TransactWriteItems", click_transaction(codes, 0))
    after_one = store.retained()
    for sequence in range(1, 301):
        store.call("TransactWriteItems", click_transaction(codes, sequence))
    after_many = store.retained()
    assert {k: after_many[k] for k in ("items", "partition_entries", "index_entries")} == {
        k: after_one[k] for k in ("items", "partition_entries", "index_entries")
    }
    assert after_one["items"] == 2 * MAX_CODES_PER_TRANSACTION + 1
    assert after_many["log_bytes"] < compact_bytes + 64 * 1024
    if store._compaction is not None:
        store._compaction.join()
    on_disk = sum(path.stat().st_size for path in tmp_path.iterdir())
    assert on_disk < 2 * compact_bytes + 256 * 1024
    assert get(store, codes[-1])["click_count"] == {"N": "301"}  # type: ignore[index]
    store.close()
    assert os.listdir(tmp_path)

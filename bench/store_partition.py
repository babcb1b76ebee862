"""The local store's cost per insert as one owner's partition of `owner-index` grows.

Every link of one owner shares one partition of the owner index, so an import of 100,000 rows
puts 100,000 entries into one index partition. In-process and in memory (no log, no HTTP), this
times batches of inserts when the partition holds 1,000 and 20,000 links, and a Query page
(Limit 25, newest first) from the middle of the partition, and reports the ratios. A store whose
insert copies the partition shows a ratio near the size ratio (20x); DynamoDB's cost does not
grow, and the target here is a ratio under 2. Times are the thread's CPU time, so other work on
a shared machine does not skew the ratio.

    .venv/bin/python -m bench.store_partition      (or: .venv/bin/python -m bench store_partition)
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from devserver.store import Store
from shared.contracts import table

TABLE = "squrl-urls-bench"
SMALL = 1_000
LARGE = 20_000
BATCH = 500
ROUNDS = 5
OWNER = "bench-owner"


def _link(index: int) -> dict[str, Any]:
    # Spread creation times so inserts land all over the partition, not only at its end.
    second = (index * 7919) % 100_000
    return {
        "short_code": {"S": f"c{index:07d}"},
        "original_url": {"S": f"https://example.com/{index}"},
        "created_at": {"S": f"2024-01-01T00:00:00.{second:06d}Z"},
        "owner_id": {"S": OWNER},
        "status": {"S": "active"},
        "redirect_type": {"N": "301"},
        "click_count": {"N": "0"},
    }


def _put(store: Store, index: int) -> None:
    store.call("PutItem", {"TableName": TABLE, "Item": _link(index)})


def _insert_cost(store: Store) -> float:
    """Median microseconds per insert over ROUNDS batches (each batch deleted again)."""
    samples = []
    for round_ in range(ROUNDS):
        indexes = range(10_000_000 + round_ * BATCH, 10_000_000 + (round_ + 1) * BATCH)
        started = time.thread_time()
        for index in indexes:
            _put(store, index)
        samples.append((time.thread_time() - started) / BATCH * 1e6)
        for index in indexes:
            store.call(
                "DeleteItem", {"TableName": TABLE, "Key": {"short_code": {"S": f"c{index:07d}"}}}
            )
    return statistics.median(samples)


def _page_cost(store: Store, links: int) -> float:
    """Median microseconds for one Query page of 25 from the middle of the partition."""
    middle = _link(links // 2)
    start = {name: middle[name] for name in ("short_code", "owner_id", "created_at")}
    request = {
        "TableName": TABLE,
        "IndexName": table.OWNER_INDEX,
        "KeyConditionExpression": "#o = :o",
        "ExpressionAttributeNames": {"#o": table.OWNER_INDEX_PARTITION_KEY},
        "ExpressionAttributeValues": {":o": {"S": OWNER}},
        "ScanIndexForward": False,
        "Limit": 25,
        "ExclusiveStartKey": start,
    }
    samples = []
    for _ in range(20):
        started = time.thread_time()
        response = store.call("Query", request)
        samples.append((time.thread_time() - started) * 1e6)
        assert len(response["Items"]) == 25
    return statistics.median(samples)


def run() -> dict[str, Any]:
    store = Store(None)
    store.ensure_table(table.create_table_request(TABLE))
    results: dict[str, Any] = {}
    links = 0
    for size in (SMALL, LARGE):
        while links < size:
            _put(store, links)
            links += 1
        results[f"insert_us_at_{size}"] = round(_insert_cost(store), 1)
        results[f"query_page_us_at_{size}"] = round(_page_cost(store, links), 1)
    results["insert_ratio"] = round(
        results[f"insert_us_at_{LARGE}"] / results[f"insert_us_at_{SMALL}"], 2
    )
    results["query_page_ratio"] = round(
        results[f"query_page_us_at_{LARGE}"] / results[f"query_page_us_at_{SMALL}"], 2
    )
    store.close()
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

"""What recording a click adds to the regional redirect, and what counting it costs downstream.

The redirect handler runs with a stand-in table client that answers at once, so the numbers are
the handler's own CPU time; the click producer writes its line to a pipe drained by another
thread, as Lambda's runtime drains stdout. Runs with and without the producer alternate in
blocks, so both see the same machine state.

The second part feeds synthetic clicks through the consumer's counting logic in batches as
Lambda delivers them and counts the DynamoDB item writes it makes per 1,000 clicks.

    .venv/bin/python -m bench.click_producer
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

for _key, _value in {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "SQURL_TABLE_NAME": "squrl-urls-bench",
}.items():
    os.environ.setdefault(_key, _value)
BLOCKS = 20
PER_BLOCK = 1000
# The click consumer's event source batch size (cdk_constructs/clicks/click_consumer.py), which
# tests/infra/test_analytics.py pins in the template.
CONSUMER_BATCH_SIZE = 2000
ITEM = {
    "original_url": {"S": "https://example.com/a/long/enough/path?with=query"},
    "status": {"S": "active"},
    "redirect_type": {"N": "302"},
}
HEADERS = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Referer": "https://news.ycombinator.com/item?id=42",
    "CloudFront-Viewer-Country": "DE",
    "Accept": "text/html,application/xhtml+xml",
}


class InstantTable:
    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        return {"Item": ITEM}


_DRAIN = """
import sys
total = 0
while chunk := sys.stdin.buffer.read1(65536):
    total += len(chunk)
print(total)
"""


@contextlib.contextmanager
def stdout_to_drained_pipe() -> Iterator[list[int]]:
    """stdout into a pipe that another process empties, as Lambda's runtime reads a function's
    stdout outside the interpreter; yields [bytes received], filled in on exit."""
    drain = subprocess.Popen(
        [sys.executable, "-c", _DRAIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert drain.stdin is not None
    writer = io.TextIOWrapper(drain.stdin, write_through=True)
    received = [0]
    original, sys.stdout = sys.stdout, writer
    try:
        yield received
    finally:
        sys.stdout = original
        writer.close()
        assert drain.stdout is not None
        received[0] = int(drain.stdout.read())
        drain.wait(timeout=30)


def _time_block(handler: Any, event: dict[str, Any], n: int) -> list[float]:
    timings = []
    for _ in range(n):
        start = time.perf_counter_ns()
        handler(event, None)
        timings.append((time.perf_counter_ns() - start) / 1000)
    return timings


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered), 2),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1], 2),
        "mean_us": round(statistics.fmean(ordered), 2),
    }


def producer_latency() -> dict[str, Any]:
    from functions.redirect import handler as redirect
    from shared.clicks.producer import recorder
    from shared.settings import settings

    redirect.redirector.client = InstantTable()
    previous = os.environ.get("SQURL_CLICK_STREAM")
    os.environ["SQURL_CLICK_STREAM"] = "squrl-bench-clicks"
    settings.cache_clear()
    try:
        producer = recorder()
    finally:
        # Other benchmarks in the same process see the environment they started with.
        if previous is None:
            del os.environ["SQURL_CLICK_STREAM"]
        else:
            os.environ["SQURL_CLICK_STREAM"] = previous
        settings.cache_clear()
    assert producer is not None, "the click producer is off"
    event = {
        "resource": "/{code}",
        "path": "/abc123",
        "httpMethod": "GET",
        "headers": HEADERS,
        "pathParameters": {"code": "abc123"},
    }
    without: list[float] = []
    with_producer: list[float] = []
    with stdout_to_drained_pipe() as received:
        # Warm-up: imports, regex compilation and the first writes do not count.
        redirect.record_click = producer
        _time_block(redirect.handler, event, 200)
        for _ in range(BLOCKS):
            redirect.record_click = None
            without += _time_block(redirect.handler, event, PER_BLOCK)
            redirect.record_click = producer
            with_producer += _time_block(redirect.handler, event, PER_BLOCK)
    base, produced = _summary(without), _summary(with_producer)
    clicks = BLOCKS * PER_BLOCK + 200
    return {
        "invocations_each": BLOCKS * PER_BLOCK,
        "without_producer": base,
        "with_producer": produced,
        "added_median_us": round(produced["median_us"] - base["median_us"], 2),
        "added_p99_us": round(produced["p99_us"] - base["p99_us"], 2),
        "bytes_per_click_line": round(received[0] / clicks, 1),
    }


# A link item as the API stores it, before any click: what a counter write to it starts from.
LINK_ITEM = {
    "short_code": {"S": "code00001"},
    "created_at": {"S": "2026-09-01T00:00:00Z"},
    "owner_id": {"S": "3f6c2a1e-0000-4000-8000-000000000001"},
    "click_count": {"N": "0"},
    **ITEM,
}


def _value_size(value: dict[str, str]) -> int:
    """DynamoDB's size of a string or number attribute value (a number: 1 byte per 2 digits, +1)."""
    if "N" in value:
        digits = value["N"].lstrip("-").replace(".", "").strip("0") or "0"
        return 1 + (len(digits) + 1) // 2
    return len(value["S"].encode())


def _item_size(item: dict[str, dict[str, str]]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


class WriteCountingTable:
    """Just enough of DynamoDB for the consumer: items as its updates leave them, and a tally.

    Conditions always hold (the benchmark delivers every batch once). Each write's cost in write
    units is DynamoDB's for a standard write: the larger of the item before and after, per KB
    started.
    """

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, str]]] = {}
        # The consumer writes from several threads.
        self.lock = threading.Lock()
        self.item_writes = 0
        self.write_units = 0

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        item = self.items.get(kwargs["Key"]["short_code"]["S"])
        return {"Item": item} if item else {}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self._update(**kwargs)
        return {}

    def _update(self, **kwargs: Any) -> None:
        key = kwargs["Key"]["short_code"]["S"]
        if key.startswith(("stats#", "checkpoint#")):
            item = self.items.setdefault(key, {"short_code": {"S": key}})
        else:
            item = self.items.setdefault(key, {**LINK_ITEM, "short_code": {"S": key}})
        before = _item_size(item)
        names = kwargs["ExpressionAttributeNames"]
        values = kwargs["ExpressionAttributeValues"]
        for clause, body in re.findall(
            r"(SET|ADD) (.*?)(?= SET | ADD |$)", kwargs["UpdateExpression"]
        ):
            for part in body.split(","):
                name, value = re.findall(r"[#:]\w+", part)
                attribute, new = names[name], values[value]
                if clause == "ADD" and attribute in item:
                    new = {"N": str(int(item[attribute]["N"]) + int(new["N"]))}
                item[attribute] = new
        self.item_writes += 1
        self.write_units += -(-max(before, _item_size(item)) // 1024)


def consumer_writes(
    clicks: int = 100_000, codes: int = 1, batch_records: int = 1000, clicks_per_record: int = 1
) -> dict[str, Any]:
    """Item writes per 1,000 clicks; codes are drawn with a Zipf-like skew (a few hot links)."""
    import random

    from devserver.click_stream import log_subscription_record
    from shared.clicks.counter import ClickCounter, StreamRecord
    from shared.clicks.events import click_event

    rng = random.Random(7)
    weights = [1 / (rank + 1) for rank in range(codes)]
    names = [f"code{rank:05d}" for rank in range(codes)]
    table = WriteCountingTable()
    counter = ClickCounter(table, "bench", lambda entries: None, time.time)
    agents = ("Mozilla/5.0 (Windows NT 10.0) Chrome/124.0", "Googlebot/2.1")
    sequence = 0
    records: list[StreamRecord] = []
    counted = 0
    for n in range(clicks):
        event = click_event(
            rng.choices(names, weights)[0] if codes > 1 else names[0],
            user_agent=agents[n % 10 == 0],
            referer=f"https://site{rng.randrange(20)}.example/",
            country=rng.choice(("US", "DE", "JP", "BR")),
            ts_ms=1_790_000_000_000 + n,
        )
        if clicks_per_record == 1:
            records.append(StreamRecord(str(sequence), event.to_json().encode()))
        else:
            if n % clicks_per_record == 0:
                pending: list[Any] = []
            pending.append(event)
            if len(pending) < clicks_per_record:
                continue
            records.append(StreamRecord(str(sequence), log_subscription_record(pending, "g")))
        sequence += 1
        if len(records) == batch_records:
            outcome = counter.count("bench", "shardId-0", records)
            counted += outcome.human_clicks + outcome.bot_clicks
            records = []
    if records:
        outcome = counter.count("bench", "shardId-0", records)
        counted += outcome.human_clicks + outcome.bot_clicks
    assert counted == clicks, (counted, clicks)
    return {
        "clicks": clicks,
        "codes": codes,
        "records_per_batch": batch_records,
        "clicks_per_record": clicks_per_record,
        "item_writes_per_1000_clicks": round(table.item_writes * 1000 / clicks, 2),
        "write_units_per_1000_clicks": round(table.write_units * 1000 / clicks, 2),
    }


def run() -> dict[str, Any]:
    return {
        "producer": producer_latency(),
        "consumer_one_viral_code": consumer_writes(codes=1),
        # At the consumer's batch size (BATCH_SIZE in cdk_constructs/clicks/click_consumer.py).
        "consumer_1000_codes": consumer_writes(codes=1000, batch_records=CONSUMER_BATCH_SIZE),
        # The same traffic in the smaller batches a quieter shard sends.
        "consumer_1000_codes_batch_1000": consumer_writes(codes=1000, batch_records=1000),
        "consumer_1000_codes_log_batches": consumer_writes(
            codes=1000, batch_records=100, clicks_per_record=50
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

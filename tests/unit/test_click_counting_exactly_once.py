"""Every click counted exactly once, whatever Lambda does with a batch: redeliver it, retry it from
the middle after a failed write, bisect it after a crash, or run it twice at once.

The expected counts are worked out here from the clicks as made, never by the counter's own code.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clicks.counter import BatchOutcome, ClickCounter, StreamRecord, mark_attribute
from shared.clicks.events import ClickEvent
from shared.contracts import table
from shared.links import repository
from tests.unit.test_click_consumer import (
    DAY_MS,
    SHARD,
    STREAM,
    TABLE,
    CountingClient,
    link,
    put_link,
    stats_of,
)

# Clicks fall on the codes in a 16-click cycle: a hot code, a warm one, and six in the long tail.
CODES = ("hot", "warm", "mild", "cool", "tail1", "tail2", "tail3", "tail4")
CYCLE = (0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 4, 0, 5, 6, 7)
CLICKS = 240
FIRST_SEQUENCE = 10_000
# One click every five minutes from 2026-09-21T14:13:20Z: the batch spans two UTC days.
STEP_MS = 5 * 60 * 1000


def make_click(n: int) -> ClickEvent:
    return ClickEvent(
        id=f"click-{n}",
        code=CODES[CYCLE[n % len(CYCLE)]],
        ts=DAY_MS + n * STEP_MS,
        referrer="(direct)" if n % 5 == 0 else f"site{n % 3}.example",
        country=("DE", "US", "JP", "BR")[n % 4],
        device="bot" if n % 7 == 3 else ("mobile", "desktop")[n % 2],
    )


def make_batch(clicks: int = CLICKS) -> list[StreamRecord]:
    """One click a record, sequence numbers two apart (room for a poison record between)."""
    return [
        StreamRecord(str(FIRST_SEQUENCE + 2 * n), make_click(n).to_json().encode())
        for n in range(clicks)
    ]


def expected_stats(code: str, clicks: int = CLICKS) -> dict[str, Any]:
    """The stats response for `code` after each of the first `clicks` clicks counted once."""
    mine = [make_click(n) for n in range(clicks) if make_click(n).code == code]
    people = [c for c in mine if c.device != "bot"]

    def utc_day(ts: int) -> str:
        return datetime.fromtimestamp(ts / 1000, UTC).date().isoformat()

    return {
        "click_count": len(people),
        "bot_clicks": len(mine) - len(people),
        "daily": dict(Counter(utc_day(c.ts) for c in people)),
        "referrers": dict(Counter(c.referrer for c in people)),
        "countries": dict(Counter(c.country for c in people)),
        "devices": dict(Counter(c.device for c in people)),
    }


def counted_stats(dynamodb: Any, code: str) -> dict[str, Any]:
    body = stats_of(dynamodb, code)
    return {
        "click_count": link(dynamodb, code)["click_count"],
        "bot_clicks": link(dynamodb, code).get("bot_clicks", 0),
        "daily": {d["date"]: d["clicks"] for d in body["daily"]},
        "referrers": {r["domain"]: r["clicks"] for r in body["referrers"]},
        "countries": {c["country"]: c["clicks"] for c in body["countries"]},
        "devices": {d["device"]: d["clicks"] for d in body["devices"]},
    }


def assert_counted_once(dynamodb: Any, clicks: int = CLICKS) -> None:
    for code in CODES:
        assert counted_stats(dynamodb, code) == expected_stats(code, clicks), code


@pytest.fixture
def links(dynamodb: Any) -> None:
    for code in CODES:
        put_link(dynamodb, code)


@pytest.fixture
def client(dynamodb: Any) -> CountingClient:
    return CountingClient(dynamodb)


@pytest.fixture
def dead_letters() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def counter(client: CountingClient, dead_letters: list[dict[str, Any]]) -> ClickCounter:
    """Writing as the consumer does, several items at a time."""
    return ClickCounter(client, TABLE, dead_letters.extend, time.time)


def test_the_expected_counts_are_what_the_clicks_say() -> None:
    """The input pinned as literals, so a change to it cannot quietly weaken the other tests."""
    assert expected_stats("hot")["click_count"] + expected_stats("hot")["bot_clicks"] == 105
    assert expected_stats("hot")["bot_clicks"] == 15
    assert expected_stats("warm")["click_count"] == 39
    assert expected_stats("tail4") == {
        "click_count": 13,
        "bot_clicks": 2,
        "daily": {"2026-09-21": 6, "2026-09-22": 7},
        "referrers": {"(direct)": 3, "site0.example": 4, "site1.example": 3, "site2.example": 3},
        "countries": {"BR": 13},
        "devices": {"desktop": 13},
    }
    assert sum(sum(expected_stats(c)["devices"].values()) for c in CODES) == 206


def lambda_retries(
    counter: ClickCounter, batch: list[StreamRecord], *, limit: int = 10
) -> list[BatchOutcome]:
    """What Lambda does with a partial batch response: deliver again from the named record."""
    outcomes = []
    while batch:
        outcome = counter.count(STREAM, SHARD, batch)
        outcomes.append(outcome)
        if outcome.failed_from is None:
            return outcomes
        batch = [r for r in batch if int(r.sequence_number) >= int(outcome.failed_from)]
        assert len(outcomes) < limit, "the batch kept failing"
    return outcomes


def test_a_batch_delivered_again_adds_nothing_even_without_its_checkpoint(
    dynamodb: Any, links: None, client: CountingClient, counter: ClickCounter
) -> None:
    batch = make_batch()
    first = counter.count(STREAM, SHARD, batch)
    assert first.failed_from is None and first.human_clicks == 206
    # 8 link items, 8 stats items, the checkpoint: not one write more.
    assert first.item_writes == 17 and len(client.updates) == 17
    again = counter.count(STREAM, SHARD, batch)
    assert again.skipped_records == CLICKS and again.item_writes == 0
    # The checkpoint is a shortcut only: without it, each item's mark refuses the batch.
    dynamodb.delete_item(
        TableName=TABLE, Key={"short_code": {"S": table.checkpoint_key(STREAM, SHARD)}}
    )
    third = counter.count(STREAM, SHARD, batch)
    assert third.human_clicks == 0 and third.bot_clicks == 0
    assert third.already_counted_items == 16 and third.item_writes == 1
    assert_counted_once(dynamodb)


@pytest.mark.parametrize("failure", ["refused", "written, answer lost"])
@pytest.mark.parametrize("nth", [0, 7, 15, 16])
def test_a_failed_write_in_the_middle_is_retried_to_exact_counts(
    dynamodb: Any,
    links: None,
    client: CountingClient,
    dead_letters: list[dict[str, Any]],
    nth: int,
    failure: str,
) -> None:
    # One writer, so the Nth write is a known one. Codes go in code order, link item then stats
    # item: 0 is cool's link item, 7 tail1's stats item, 15 warm's stats item, 16 the checkpoint.
    counter = ClickCounter(client, TABLE, dead_letters.extend, time.time, parallel_writes=1)
    (client.fail_updates if failure == "refused" else client.lose_answers).add(nth)
    outcomes = lambda_retries(counter, make_batch())
    if nth < 16:
        assert len(outcomes) == 2 and outcomes[0].failed_from is not None
    else:
        # Every count is in when the checkpoint fails to move: nothing is delivered again.
        assert len(outcomes) == 1
    assert_counted_once(dynamodb)


def test_many_writers_with_a_failed_write_end_exact(
    dynamodb: Any, links: None, client: CountingClient, counter: ClickCounter
) -> None:
    client.fail_updates = {3, 4}
    client.lose_answers = {9}
    outcomes = lambda_retries(counter, make_batch())
    assert outcomes[0].failed_from is not None and outcomes[-1].failed_from is None
    assert sum(o.human_clicks for o in outcomes) <= 206  # a lost answer's clicks are not reported
    assert_counted_once(dynamodb)


def bisect_after_crash(
    counter: ClickCounter, client: CountingClient, batch: list[StreamRecord], crashes: list[int]
) -> None:
    """Lambda's BisectBatchOnFunctionError: a function that stops midway (a timeout, say) gets
    each half of its batch delivered on its own. Each entry in `crashes` lets that many writes
    through on the next attempt before the function stops; its answer never reaches Lambda."""
    pending = [batch]
    while pending:
        part = pending.pop(0)
        if crashes:
            client.crash_after = len(client.updates) + crashes.pop(0)
            counter.count(STREAM, SHARD, part)
            client.crash_after = None
            half = len(part) // 2
            pending[:0] = [part[:half], part[half:]]
        else:
            lambda_retries(counter, part)


@pytest.mark.parametrize("crashes", [[5], [11, 3], [0, 2, 6]])
def test_a_batch_bisected_after_a_crash_is_counted_exactly_once(
    dynamodb: Any,
    links: None,
    client: CountingClient,
    counter: ClickCounter,
    crashes: list[int],
) -> None:
    bisect_after_crash(counter, client, make_batch(), crashes)
    assert_counted_once(dynamodb)


def test_a_poison_record_in_the_middle_is_parked_and_the_rest_counted_once(
    dynamodb: Any, links: None, client: CountingClient, dead_letters: list[dict[str, Any]]
) -> None:
    batch = make_batch()
    poison_sequence = str(FIRST_SEQUENCE + CLICKS + 1)  # between the 120th and 121st click
    batch.insert(CLICKS // 2 + 1, StreamRecord(poison_sequence, b"\x00 not a click"))
    counter = ClickCounter(client, TABLE, dead_letters.extend, time.time, parallel_writes=1)
    # A crash, then a failed write in the half holding the poison record.
    client.crash_after = 6
    counter.count(STREAM, SHARD, batch)
    client.crash_after = None
    half = len(batch) // 2
    lambda_retries(counter, batch[:half])
    client.fail_updates = {len(client.updates) + 2}
    outcomes = lambda_retries(counter, batch[half:])
    assert len(outcomes) == 2
    assert_counted_once(dynamodb)
    # Parked on each attempt that reached it, never lost; always the one record.
    assert len(dead_letters) >= 1
    assert {entry["sequence_number"] for entry in dead_letters} == {poison_sequence}


def race(*runs: Callable[[], BatchOutcome]) -> list[BatchOutcome]:
    """Start every run at once, each on its own thread; moto serializes the calls themselves."""
    start = threading.Barrier(len(runs))
    outcomes: list[BatchOutcome | BaseException] = [RuntimeError("did not run")] * len(runs)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = runs[index]()
        except BaseException as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [o for o in outcomes if isinstance(o, BatchOutcome)]


@pytest.mark.parametrize("second", ["the same batch", "its first half"])
def test_two_consumers_racing_on_one_batch_count_it_once(
    dynamodb: Any,
    links: None,
    client: CountingClient,
    dead_letters: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    second: str,
) -> None:
    """Two invocations with one shard's records at once, both from the first record not counted
    (a shard's records are counted in order, ParallelizationFactor 1: a delivery never starts
    after records nobody counted, unless Lambda gave those up)."""
    batch = make_batch()
    other = batch if second == "the same batch" else batch[: CLICKS // 2]
    one = ClickCounter(client, TABLE, dead_letters.extend, time.time)
    two = ClickCounter(client, TABLE, dead_letters.extend, time.time)
    # Both read the checkpoint before either writes, so neither can skip the batch by it.
    both_read = threading.Barrier(2)
    read_checkpoint = client.get_item

    def get_item(**kwargs: Any) -> Any:
        answer = read_checkpoint(**kwargs)
        both_read.wait()
        return answer

    monkeypatch.setattr(client, "get_item", get_item, raising=False)
    outcomes = race(
        lambda: one.count(STREAM, SHARD, batch), lambda: two.count(STREAM, SHARD, other)
    )
    assert all(o.failed_from is None for o in outcomes)
    # Whichever wrote an item second found it counted: every one of the 16 items, once.
    assert sum(o.already_counted_items for o in outcomes) == 16
    # Between them they add each click once: what one added, the other found counted.
    assert sum(o.human_clicks for o in outcomes) == 206
    assert sum(o.bot_clicks for o in outcomes) == 34
    assert_counted_once(dynamodb)


def test_random_crashes_failures_and_redeliveries_always_end_exact(
    dynamodb: Any, links: None, client: CountingClient, dead_letters: list[dict[str, Any]]
) -> None:
    rng = random.Random(16)
    batch = make_batch(96)
    counter = ClickCounter(client, TABLE, dead_letters.extend, time.time, parallel_writes=4)
    for _ in range(2):
        client.fail_updates = {len(client.updates) + rng.randrange(30) for _ in range(3)}
        client.lose_answers = {len(client.updates) + rng.randrange(30) for _ in range(2)}
        bisect_after_crash(counter, client, batch, [rng.randrange(12) for _ in range(2)])
        # Lambda delivering it once more, from a random record.
        lambda_retries(counter, batch[rng.randrange(len(batch)) :])
    assert_counted_once(dynamodb, clicks=96)


def test_marks_order_sequence_numbers_of_any_length(
    dynamodb: Any, links: None, counter: ClickCounter
) -> None:
    """As text "999" sorts after "1001": a mark must still say 1001 is later."""
    checkpoint = {"short_code": {"S": table.checkpoint_key(STREAM, SHARD)}}
    sequences = ["998", "999", "1000", "1001"]
    batch = [StreamRecord(s, make_click(n).to_json().encode()) for n, s in enumerate(sequences)]
    lambda_retries(counter, batch)
    # Delivered again from 999 with the checkpoint gone: only the items' marks stand in the way.
    dynamodb.delete_item(TableName=TABLE, Key=checkpoint)
    again = lambda_retries(counter, batch[1:])
    assert [(o.human_clicks, o.bot_clicks) for o in again] == [(0, 0)]
    assert_counted_once(dynamodb, clicks=4)
    # Real Kinesis sequence numbers: 56 digits.
    first = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898
    long_batch = [
        StreamRecord(str(first + n), make_click(n).to_json().encode()) for n in range(4, 8)
    ]
    lambda_retries(counter, long_batch)
    dynamodb.delete_item(TableName=TABLE, Key=checkpoint)
    lambda_retries(counter, long_batch[2:])
    assert_counted_once(dynamodb, clicks=8)


def test_a_mark_is_one_short_attribute_per_shard(
    dynamodb: Any, links: None, counter: ClickCounter
) -> None:
    counter.count(STREAM, SHARD, make_batch(16))
    counter.count(
        STREAM,
        "shardId-000000000001",
        [
            StreamRecord("7", make_click(0).to_json().encode()),
        ],
    )
    item = repository.get_link(dynamodb, TABLE, "hot", consistent=True)
    assert item is not None
    marks = {name: value for name, value in item.items() if name.startswith("m:")}
    assert marks == {
        mark_attribute(STREAM, SHARD): f"005{FIRST_SEQUENCE + 2 * 15}",
        mark_attribute(STREAM, "shardId-000000000001"): "0017",
    }
    assert all(len(name) == 14 for name in marks)

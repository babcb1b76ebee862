"""The click consumer against moto: batched atomic counts, exact under redelivery, poison aside."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devserver.click_stream import log_subscription_record
from shared.clicks import counter as counter_code
from shared.clicks import stats
from shared.clicks.counter import ClickCounter, StreamRecord
from shared.clicks.events import ClickEvent, click_event
from shared.contracts import table
from shared.links import repository
from tests.unit.events import context
from tests.unit.test_click_records import PERSONAL, PERSONAL_POISON

TABLE = "squrl-urls-test"
STREAM = "squrl-clicks-test"
SHARD = "shardId-000000000000"
DAY_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148"
# Where a dead-letter message points: enough to read the record from the stream again, no more.
DEAD_LETTER_FIELDS = {
    "reason",
    "stream",
    "shard",
    "sequence_number",
    "approximate_arrival",
    "size_bytes",
}


class CountingClient:
    """The moto client, with every write kept for inspection and failures injected on demand.

    `fail_updates` holds the indexes of UpdateItem calls refused before they reach the table,
    `lose_answers` those applied whose answer is lost on the way back (a timeout after the
    write), and every call from `crash_after` on is refused, as when a function stops midway.
    """

    def __init__(self, client: Any):
        self._client = client
        self._lock = threading.Lock()
        self.updates: list[dict[str, Any]] = []
        self.fail_updates: set[int] = set()
        self.lose_answers: set[int] = set()
        self.crash_after: int | None = None

    def update_item(self, **kwargs: Any) -> Any:
        with self._lock:
            attempt = len(self.updates)
            self.updates.append(kwargs)
        crashed = self.crash_after is not None and attempt >= self.crash_after
        if attempt in self.fail_updates or crashed:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "UpdateItem",
            )
        response = self._client.update_item(**kwargs)
        if attempt in self.lose_answers:
            raise ClientError(
                {"Error": {"Code": "RequestTimeout", "Message": "no answer"}}, "UpdateItem"
            )
        return response

    def written_keys(self) -> list[str]:
        return [update["Key"]["short_code"]["S"] for update in self.updates]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def put_link(dynamodb: Any, code: str, owner: str = "owner-1") -> None:
    dynamodb.put_item(
        TableName=TABLE,
        Item=repository.to_item(
            {
                "short_code": code,
                "original_url": f"https://example.com/{code}",
                "created_at": "2026-09-01T00:00:00Z",
                "click_count": 0,
                "status": "active",
                "redirect_type": 301,
                "owner_id": owner,
            }
        ),
    )


def click(code: str, n: int, *, user_agent: str = MAC, referer: str | None = None) -> ClickEvent:
    return click_event(
        code,
        user_agent=user_agent,
        referer=referer,
        country="DE",
        ts_ms=DAY_MS + n,
        event_id=f"{code}-{n}",
    )


def records(events: list[ClickEvent], first_sequence: int = 1000) -> list[StreamRecord]:
    return [
        StreamRecord(str(first_sequence + i), event.to_json().encode())
        for i, event in enumerate(events)
    ]


def link(dynamodb: Any, code: str) -> dict[str, Any]:
    item = repository.get_link(dynamodb, TABLE, code, consistent=True)
    assert item is not None
    return item


def stats_of(dynamodb: Any, code: str) -> dict[str, Any]:
    stats_item = repository.get_link(dynamodb, TABLE, table.stats_key(code), consistent=True)
    return stats.link_stats(stats_item, link(dynamodb, code))


@pytest.fixture
def client(dynamodb: Any) -> CountingClient:
    return CountingClient(dynamodb)


@pytest.fixture
def dead_letters() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def counter(client: CountingClient, dead_letters: list[dict[str, Any]]) -> ClickCounter:
    return ClickCounter(client, TABLE, dead_letters.extend, time.time)


def test_100000_clicks_on_one_code_are_one_update_per_batch(
    dynamodb: Any, client: CountingClient, counter: ClickCounter
) -> None:
    put_link(dynamodb, "viral")
    batch_size, batches = 1000, 100
    for batch in range(batches):
        events = [
            # One in ten is a crawler; the rest are people.
            click(
                "viral", batch * batch_size + i, user_agent="Googlebot/2.1" if i % 10 == 0 else MAC
            )
            for i in range(batch_size)
        ]
        outcome = counter.count(STREAM, SHARD, records(events, batch * batch_size))
        assert outcome.failed_from is None and outcome.item_writes == 3
    # Per batch: the link's counters, the stats item's counters, the checkpoint.
    checkpoint = table.checkpoint_key(STREAM, SHARD)
    assert client.written_keys() == ["viral", "stats#viral", checkpoint] * batches
    item = link(dynamodb, "viral")
    assert item["click_count"] == 90_000 and item["bot_clicks"] == 10_000
    body = stats_of(dynamodb, "viral")
    assert body["daily"] == [{"date": "2026-09-21", "clicks": 90_000}]
    assert body["devices"] == [{"device": "desktop", "clicks": 90_000}]
    assert body["countries"] == [{"country": "DE", "clicks": 90_000}]
    assert body["referrers"] == [{"domain": "(direct)", "clicks": 90_000}]


def test_a_redelivered_batch_is_not_counted_again(
    dynamodb: Any, client: CountingClient, counter: ClickCounter
) -> None:
    put_link(dynamodb, "abc123")
    batch = records([click("abc123", i) for i in range(50)])
    assert counter.count(STREAM, SHARD, batch).human_clicks == 50
    again = counter.count(STREAM, SHARD, batch)
    assert again.human_clicks == 0 and again.skipped_records == 50
    # Lambda retrying from the middle, with newer records appended.
    newer = records([click("abc123", i) for i in range(50, 60)], first_sequence=1050)
    assert counter.count(STREAM, SHARD, batch[25:] + newer).human_clicks == 10
    assert link(dynamodb, "abc123")["click_count"] == 60


def test_a_failed_update_is_delivered_again_from_its_codes_first_record_without_double_counting(
    dynamodb: Any, client: CountingClient, dead_letters: list[dict[str, Any]]
) -> None:
    codes = [f"code{n:03d}" for n in range(120)]
    for code in codes:
        put_link(dynamodb, code)
    # One writer, so the Nth update is a known item: link and stats item per code, in code order.
    counter = ClickCounter(client, TABLE, dead_letters.extend, time.time, parallel_writes=1)
    batch = records([click(code, n) for n, code in enumerate(codes)])
    client.fail_updates = {60}  # the link of code030
    outcome = counter.count(STREAM, SHARD, batch)
    assert outcome.failed_from == batch[30].sequence_number
    assert outcome.human_clicks == 119
    # What Lambda does with the answer: deliver again from the reported record.
    redelivery = [r for r in batch if int(r.sequence_number) >= int(outcome.failed_from)]
    again = counter.count(STREAM, SHARD, redelivery)
    assert again.failed_from is None and again.human_clicks == 1
    # code030's stats item, never written, is written now; the other 89 items hold their click.
    assert again.item_writes == 3 and again.already_counted_items == 89 * 2
    assert all(link(dynamodb, code)["click_count"] == 1 for code in codes)
    assert all(stats_of(dynamodb, code)["daily"][0]["clicks"] == 1 for code in codes)


def test_a_record_with_clicks_on_many_codes_is_resumed_without_double_counting(
    dynamodb: Any,
    client: CountingClient,
    dead_letters: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    codes = [f"many{n:03d}" for n in range(130)]
    for code in codes:
        put_link(dynamodb, code)
    one_record = [
        StreamRecord(
            "5000", log_subscription_record([click(c, n) for n, c in enumerate(codes)], "g")
        )
    ]
    counter = ClickCounter(client, TABLE, dead_letters.extend, time.time, parallel_writes=1)
    client.fail_updates = {101}  # the stats item of many050
    first = counter.count(STREAM, SHARD, one_record)
    assert first.failed_from == "5000" and first.human_clicks == 130
    # The log names the record to deliver again and how many codes are still owed.
    assert "could not count the clicks on 1 of 130 codes of shard" in caplog.text
    assert "(first many050); delivering again from record 5000" in caplog.text
    second = counter.count(STREAM, SHARD, one_record)
    assert second.failed_from is None and second.human_clicks == 0
    assert second.item_writes == 2  # many050's stats item and the checkpoint
    assert sum(link(dynamodb, code)["click_count"] for code in codes) == 130
    assert sum(stats_of(dynamodb, code)["daily"][0]["clicks"] for code in codes) == 130
    assert counter.count(STREAM, SHARD, one_record).skipped_records == 1


def test_a_poison_record_goes_to_the_dead_letter_queue_alone(
    dynamodb: Any, counter: ClickCounter, dead_letters: list[dict[str, Any]]
) -> None:
    put_link(dynamodb, "abc123")
    batch = records([click("abc123", i) for i in range(10)])
    batch.insert(5, StreamRecord("1004999", b"\x00\x01 not a click", 1_790_000_000.25))
    batch.sort(key=lambda r: int(r.sequence_number))
    outcome = counter.count(STREAM, SHARD, batch)
    assert outcome.failed_from is None and outcome.poison_records == 1
    assert outcome.human_clicks == 10
    [entry] = dead_letters
    # The record is neither gzip nor JSON, so it reads as an edge log line of one field.
    assert entry["reason"].startswith("an edge log line has 1 fields")
    assert dead_letters == [
        {
            "reason": entry["reason"],
            "stream": STREAM,
            "shard": SHARD,
            "sequence_number": "1004999",
            "approximate_arrival": "2026-09-21T14:13:20.250Z",
            "size_bytes": len(b"\x00\x01 not a click"),
        }
    ]
    assert link(dynamodb, "abc123")["click_count"] == 10


def test_a_dead_letter_message_holds_where_the_record_is_never_what_it_says(
    dynamodb: Any, counter: ClickCounter, dead_letters: list[dict[str, Any]]
) -> None:
    put_link(dynamodb, "abc123")
    poison = [
        StreamRecord(str(2000 + i), data, 1_790_000_000 + i)
        for i, data in enumerate(PERSONAL_POISON.values())
    ]
    outcome = counter.count(STREAM, SHARD, [*records([click("abc123", 0)]), *poison])
    assert outcome.failed_from is None and outcome.human_clicks == 1
    assert outcome.poison_records == len(poison)
    assert [entry["sequence_number"] for entry in dead_letters] == [
        r.sequence_number for r in poison
    ]
    for entry, record in zip(dead_letters, poison, strict=True):
        assert set(entry) == DEAD_LETTER_FIELDS
        assert entry["size_bytes"] == len(record.data)
    written = json.dumps(dead_letters)
    assert not [marker for marker in PERSONAL if marker in written]
    payloads = [base64.b64encode(r.data).decode()[:40] for r in poison]
    assert not [payload for payload in payloads if payload in written]


def test_a_record_that_breaks_the_decoder_is_parked_and_logged_without_its_contents(
    dynamodb: Any,
    counter: ClickCounter,
    dead_letters: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(data: bytes) -> list[ClickEvent]:
        raise ValueError(data.decode())  # a library error that quotes its input

    monkeypatch.setattr(counter_code, "decode_record", broken)
    payload = f"GET /abc123 {PHONE} https://news.example.com/item?id=7 203.0.113.9".encode()
    outcome = counter.count(STREAM, SHARD, [StreamRecord("3000", payload)])
    assert outcome.failed_from is None and outcome.poison_records == 1
    [entry] = dead_letters
    assert entry["reason"] == "decoding failed: ValueError" and entry["sequence_number"] == "3000"
    assert "decoding record 3000 failed" in caplog.text and "counter.py" in caplog.text
    written = caplog.text + json.dumps(dead_letters)
    assert not [marker for marker in PERSONAL if marker in written]


def test_a_full_dead_letter_queue_fails_the_batch_instead_of_losing_the_record(
    dynamodb: Any, client: CountingClient
) -> None:
    put_link(dynamodb, "abc123")

    def refuse(entries: list[dict[str, Any]]) -> None:
        raise RuntimeError("queue unavailable")

    failing = ClickCounter(client, TABLE, refuse, time.time)
    batch = [*records([click("abc123", 0)]), StreamRecord("2000", b"garbage")]
    outcome = failing.count(STREAM, SHARD, batch)
    assert outcome.failed_from == "1000"
    assert link(dynamodb, "abc123")["click_count"] == 0


def test_duplicate_deliveries_of_one_click_in_a_batch_count_once(
    dynamodb: Any, counter: ClickCounter
) -> None:
    put_link(dynamodb, "abc123")
    same = click("abc123", 1)
    outcome = counter.count(STREAM, SHARD, records([same, same, click("abc123", 2)]))
    assert outcome.human_clicks == 2 and outcome.duplicate_clicks == 1


def test_clicks_for_a_deleted_link_leave_no_stray_items(
    dynamodb: Any, counter: ClickCounter
) -> None:
    put_link(dynamodb, "alive")
    outcome = counter.count(
        STREAM, SHARD, records([click("alive", 1), click("gone", 2), click("gone", 3)])
    )
    assert outcome.failed_from is None
    assert outcome.human_clicks == 1 and outcome.missing_link_clicks == 2
    assert repository.get_link(dynamodb, TABLE, "gone", consistent=True) is None
    assert repository.get_link(dynamodb, TABLE, table.stats_key("gone"), consistent=True) is None
    assert link(dynamodb, "alive")["click_count"] == 1


def test_clicks_still_in_the_stream_for_a_tombstoned_link_are_dropped(
    dynamodb: Any, counter: ClickCounter
) -> None:
    # What DELETE /urls/{code} leaves: the key, status deleted, no target, no stats item.
    dynamodb.put_item(
        TableName=TABLE,
        Item={"short_code": {"S": "tomb1"}, "status": {"S": "deleted"}, "version": {"N": "2"}},
    )
    outcome = counter.count(STREAM, SHARD, records([click("tomb1", 1), click("tomb1", 2)]))
    assert outcome.failed_from is None
    assert outcome.human_clicks == 0 and outcome.missing_link_clicks == 2
    tombstone = repository.get_link(dynamodb, TABLE, "tomb1", consistent=True)
    assert tombstone is not None and "click_count" not in tombstone
    assert repository.get_link(dynamodb, TABLE, table.stats_key("tomb1"), consistent=True) is None


def test_a_concurrent_commit_is_noticed_and_the_batch_recounted(
    dynamodb: Any, client: CountingClient, counter: ClickCounter
) -> None:
    put_link(dynamodb, "abc123")
    batch = records([click("abc123", i) for i in range(4)])
    original = client.update_item
    raced = []

    def racing(**kwargs: Any) -> Any:
        if not raced:
            # Another invocation counts the first two records just before this one writes.
            raced.append(True)
            ClickCounter(dynamodb, TABLE, list, time.time).count(STREAM, SHARD, batch[:2])
        return original(**kwargs)

    client.update_item = racing  # type: ignore[method-assign]
    outcome = counter.count(STREAM, SHARD, batch)
    assert outcome.human_clicks == 2 and outcome.already_counted_items == 2
    assert link(dynamodb, "abc123")["click_count"] == 4
    assert stats_of(dynamodb, "abc123")["daily"] == [{"date": "2026-09-21", "clicks": 4}]


def test_stats_split_human_breakdown_from_bots(dynamodb: Any, counter: ClickCounter) -> None:
    put_link(dynamodb, "abc123")
    events = (
        [click("abc123", i, user_agent=PHONE, referer="https://t.co/x?y=1") for i in range(3)]
        + [click("abc123", 10 + i, referer="https://news.example.com/") for i in range(2)]
        + [click("abc123", 20, user_agent="curl/8.5.0", referer="https://spam.example/")]
    )
    counter.count(STREAM, SHARD, records(events))
    assert stats_of(dynamodb, "abc123") == {
        "short_code": "abc123",
        "click_count": 5,
        "bot_clicks": 1,
        "daily": [{"date": "2026-09-21", "clicks": 5}],
        "referrers": [
            {"domain": "t.co", "clicks": 3},
            {"domain": "news.example.com", "clicks": 2},
        ],
        "countries": [{"country": "DE", "clicks": 5}],
        "devices": [{"device": "mobile", "clicks": 3}, {"device": "desktop", "clicks": 2}],
    }


@pytest.fixture
def consumer(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="squrl-clicks-dlq-test")["QueueUrl"]
    monkeypatch.setenv("SQURL_CLICK_DLQ_URL", queue_url)
    from functions.click_consumer import handler as module

    monkeypatch.setattr(module, "DEAD_LETTER_QUEUE_URL", queue_url)
    monkeypatch.setattr(module, "sqs", sqs)
    monkeypatch.setattr(module.counter, "client", dynamodb)
    yield module, queue_url


def kinesis_event(batch: list[StreamRecord]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventSourceARN": f"arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}",
                "eventID": f"{SHARD}:{record.sequence_number}",
                "kinesis": {
                    "sequenceNumber": record.sequence_number,
                    "partitionKey": "p",
                    "data": base64.b64encode(record.data).decode(),
                    "approximateArrivalTimestamp": record.arrived_at or 1_790_000_000.5,
                },
            }
            for record in batch
        ]
    }


def test_the_handler_reports_no_failures_and_parks_poison_in_sqs(
    dynamodb: Any, consumer: tuple[Any, str]
) -> None:
    module, queue_url = consumer
    put_link(dynamodb, "abc123")
    poison = f'{{"squrl_click": 1, "ua": "{PHONE}", "ts": "{PHONE}"'.encode()
    batch = [*records([click("abc123", i) for i in range(3)]), StreamRecord("9999", poison)]
    response = module.handler(kinesis_event(batch), context("click_consumer"))
    assert response == {"batchItemFailures": []}
    assert link(dynamodb, "abc123")["click_count"] == 3
    messages = module.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    [body] = [json.loads(m["Body"]) for m in messages]
    assert body == {
        "reason": body["reason"],
        "stream": STREAM,
        "shard": SHARD,
        "sequence_number": "9999",
        "approximate_arrival": "2026-09-21T14:13:20.500Z",
        "size_bytes": len(poison),
    }
    assert body["reason"].startswith("unreadable click event")
    assert "iPhone" not in messages[0]["Body"]


def test_the_handler_names_the_first_record_to_deliver_again(
    dynamodb: Any, consumer: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, _ = consumer
    put_link(dynamodb, "abc123")
    failing = CountingClient(dynamodb)
    failing.fail_updates = {0}
    monkeypatch.setattr(module.counter, "client", failing)
    batch = records([click("abc123", i) for i in range(3)])
    response = module.handler(kinesis_event(batch), context("click_consumer"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "1000"}]}

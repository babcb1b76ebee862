"""Click counters, the write side: how a batch of stream records becomes one write per counter.

Layout (all in the links table, so every replica serves stats locally; the names are
shared.contracts.table's, and shared.clicks.stats reads them):
- the link item `{code}` carries `click_count` (human clicks) and `bot_clicks`, both lifetime;
- the stats item `stats#{code}` carries the human breakdown as flat numeric attributes:
  `d:YYYY-MM-DD` per UTC day, `r:<referrer host>`, `c:<country>` and `v:<device class>`;
- both carry a progress mark per stream shard that has counted clicks into them,
  `m:<hash of stream and shard>`: the sequence number up to which that shard's records are in
  this item's counters;
- the checkpoint item `checkpoint#{stream}#{shard}` marks the last record counted into every
  item, so a batch delivered again is skipped with one read.
`#` is outside the short-code alphabet, so neither kind of key can ever be a short code, and the
redirect answers such a path with 404 before reading the table. The breakdown lives apart from
the link so the link item, which every redirect reads, stays small.

A batch from one shard is added up per code across the whole batch, and each counter item gets
one plain UpdateItem: `ADD` of its counts and `SET` of its mark to the batch's last sequence
number, under the condition that the mark is below the batch's first record. A mark at or past
that record means this item already holds some of the batch (Lambda retried, bisected or
redelivered it, or another invocation raced this one): the update is rebuilt from the records
after the mark and made under the condition that the mark is still the one seen. Each item is
thereby counted exactly once per record on its own, whatever the batch boundaries, and no write
is spent on bookkeeping but the checkpoint's one per batch. What remains is a producer delivering
the same click twice in different batches (docs/analytics.md).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from shared.clicks.events import UNPARSABLE_REFERRER, ClickEvent
from shared.clicks.records import PoisonRecord, decode_record, error_frames, unreadable_reason
from shared.contracts.table import (
    BOT_CLICKS,
    CLICK_COUNT,
    COUNTRY,
    DAY,
    DEVICE,
    PARTITION_KEY,
    REFERRER,
    checkpoint_key,
    stats_key,
)

logger = logging.getLogger(__name__)

# The progress mark's attribute on a counter item: this prefix and a hash of stream and shard
# (12 hex digits: short, as every redirect reads the link item, and no collision in practice
# among the few shards a stream ever has). The checkpoint item names the attribute it goes with.
MARK_PREFIX = "m:"
MARK_HASH_BYTES = 6
# An update expression may be at most 4 KB; "#n :n, " per counter leaves room for this many.
MAX_COUNTERS_PER_UPDATE = 300
# Counter items are written this many at a time: botocore's default connection pool size, and
# enough to write a long-tail batch (hundreds of codes) in well under a second.
MAX_PARALLEL_WRITES = 10
# How often one item's update is rebuilt because its mark moved under it (another invocation).
MAX_MARK_RACES = 3
# The checkpoint's format: a padded sequence number and a part. Kinesis sequence numbers are
# decimal strings of varying length; padded, they compare as text. The part is always the last
# one since records are no longer split, and stays so that checkpoints written before compare.
SEQUENCE_WIDTH = 80
LAST_PART = "99999"
# A checkpoint outlives the stream's retention (at most 365 days) and then expires by TTL.
CHECKPOINT_TTL_SECONDS = 400 * 86400
_SIZE_LIMIT_MESSAGE = "maximum allowed size"


def padded(sequence_number: str) -> str:
    return sequence_number.zfill(SEQUENCE_WIDTH)


def checkpoint_mark(sequence_number: str) -> str:
    return f"{padded(sequence_number)}:{LAST_PART}"


def mark_attribute(stream: str, shard: str) -> str:
    digest = hashlib.blake2b(f"{stream}#{shard}".encode(), digest_size=MARK_HASH_BYTES)
    return MARK_PREFIX + digest.hexdigest()


def mark_value(sequence: int) -> str:
    """A sequence number as text that DynamoDB orders as numbers: its length, then its digits."""
    digits = str(sequence)
    return f"{len(digits):03d}{digits}"


def mark_sequence(value: str) -> int:
    return int(value[3:])


@dataclass(frozen=True)
class StreamRecord:
    sequence_number: str
    data: bytes
    # Kinesis's approximateArrivalTimestamp (epoch seconds): with the stream's retention, it
    # says until when a dead-lettered record can be read from the stream again.
    arrived_at: float | None = None


@dataclass
class CodeCounts:
    human: int = 0
    bots: int = 0
    breakdown: Counter[str] = field(default_factory=Counter)

    def add(self, event: ClickEvent) -> None:
        if event.is_bot:
            self.bots += 1
            return
        self.human += 1
        self.breakdown[DAY + event.day] += 1
        self.breakdown[REFERRER + event.referrer] += 1
        self.breakdown[COUNTRY + event.country] += 1
        self.breakdown[DEVICE + event.device] += 1

    def fold_referrers(self, keep: int) -> None:
        """Keep the `keep` largest referrers and count the rest under UNPARSABLE_REFERRER."""
        referrers = sorted(
            ((n, k) for k, n in self.breakdown.items() if k.startswith(REFERRER)), reverse=True
        )
        other = REFERRER + UNPARSABLE_REFERRER
        for clicks, name in referrers[keep:]:
            if name != other:
                del self.breakdown[name]
                self.breakdown[other] += clicks


def aggregate(events: Iterable[ClickEvent]) -> dict[str, CodeCounts]:
    counts: dict[str, CodeCounts] = {}
    for event in events:
        counts.setdefault(event.code, CodeCounts()).add(event)
    return counts


@dataclass
class BatchOutcome:
    """What a batch did; `failed_from` is the first sequence number Lambda must deliver again."""

    human_clicks: int = 0
    bot_clicks: int = 0
    skipped_records: int = 0
    duplicate_clicks: int = 0
    poison_records: int = 0
    missing_link_clicks: int = 0
    # Counter items whose mark showed they already held some of this batch's records.
    already_counted_items: int = 0
    item_writes: int = 0
    failed_from: str | None = None


@dataclass
class _Batch:
    """The records after the checkpoint: each code's clicks with their record's sequence number."""

    records: list[StreamRecord] = field(default_factory=list)
    clicks: dict[str, list[tuple[int, ClickEvent]]] = field(default_factory=dict)
    # The sequence number of the first record with a click on each code, as delivered.
    first_record: dict[str, str] = field(default_factory=dict)
    poison: list[tuple[StreamRecord, str]] = field(default_factory=list)

    @property
    def first(self) -> int:
        return int(self.records[0].sequence_number)

    @property
    def last(self) -> int:
        return int(self.records[-1].sequence_number)

    def counts_after(self, code: str, mark: int) -> CodeCounts:
        """The code's clicks in records after `mark`."""
        counts = CodeCounts()
        for sequence, event in self.clicks[code]:
            if sequence > mark:
                counts.add(event)
        return counts


@dataclass
class _CodeResult:
    human: int = 0
    bots: int = 0
    missing: int = 0
    already_counted: int = 0
    writes: int = 0
    error: Exception | None = None


class _LinkMissing(Exception):
    """The link was deleted, or expired and removed by TTL."""


DeadLetter = Callable[[list[dict[str, Any]]], None]


class ClickCounter:
    """Counts one shard's batches into the links table. Takes its clients as parameters."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        dead_letter: DeadLetter,
        clock: Callable[[], float],
        parallel_writes: int = MAX_PARALLEL_WRITES,
    ):
        self.client = client
        self.table_name = table_name
        self.dead_letter = dead_letter
        self.clock = clock
        self.parallel_writes = parallel_writes

    def count(self, stream: str, shard: str, records: Sequence[StreamRecord]) -> BatchOutcome:
        outcome = BatchOutcome()
        key = checkpoint_key(stream, shard)
        batch = self._decode(records, self._read_checkpoint(key), outcome)
        if not batch.records:
            return outcome
        if batch.poison:
            try:
                # Before any count: a failure here delivers the batch again, so a poison record
                # may reach the queue twice but is never lost past the checkpoint.
                self.dead_letter(
                    [_dead_letter_entry(stream, shard, r, why) for r, why in batch.poison]
                )
            except Exception:
                logger.exception("could not set aside the poison records of shard %s", shard)
                outcome.failed_from = batch.records[0].sequence_number
                return outcome
            outcome.poison_records = len(batch.poison)
        mark = mark_attribute(stream, shard)
        codes = sorted(batch.clicks)
        results = self._count_codes(codes, batch, mark)
        failed = []
        for code, result in zip(codes, results, strict=True):
            outcome.human_clicks += result.human
            outcome.bot_clicks += result.bots
            outcome.missing_link_clicks += result.missing
            outcome.already_counted_items += result.already_counted
            outcome.item_writes += result.writes
            if result.error is not None:
                failed.append(code)
        if failed:
            # Every record before the first one holding a click on a failed code is counted in
            # full; Lambda delivers the rest again, and the marks skip what each item holds.
            outcome.failed_from = min((batch.first_record[c] for c in failed), key=int)
            first_error = next(r.error for r in results if r.error is not None)
            logger.error(
                "could not count the clicks on %d of %d codes of shard %s (first %s); delivering "
                "again from record %s",
                len(failed),
                len(codes),
                shard,
                failed[0],
                outcome.failed_from,
                exc_info=first_error,
            )
            return outcome
        self._move_checkpoint(key, batch.records[-1].sequence_number, mark, outcome)
        return outcome

    def _decode(
        self, records: Sequence[StreamRecord], committed: str | None, outcome: BatchOutcome
    ) -> _Batch:
        batch = _Batch()
        seen: set[str] = set()
        for record in records:
            if committed is not None and checkpoint_mark(record.sequence_number) <= committed:
                outcome.skipped_records += 1
                continue
            batch.records.append(record)
            try:
                events = decode_record(record.data)
            except Exception as error:  # a record that breaks the decoder must not block the shard
                reason = unreadable_reason(error)
                if not isinstance(error, PoisonRecord):
                    # Not logger.exception: the exception's message may quote the record.
                    logger.error(
                        "decoding record %s failed: %s\n%s",
                        record.sequence_number,
                        reason,
                        error_frames(error),
                    )
                batch.poison.append((record, reason))
                continue
            sequence = int(record.sequence_number)
            for event in events:
                if event.id in seen:
                    outcome.duplicate_clicks += 1
                    continue
                seen.add(event.id)
                batch.clicks.setdefault(event.code, []).append((sequence, event))
                batch.first_record.setdefault(event.code, record.sequence_number)
        return batch

    def _count_codes(self, codes: list[str], batch: _Batch, mark: str) -> list[_CodeResult]:
        if self.parallel_writes <= 1 or len(codes) <= 1:
            return [self._count_code(code, batch, mark) for code in codes]
        workers = min(self.parallel_writes, len(codes))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="counter") as pool:
            return list(pool.map(lambda code: self._count_code(code, batch, mark), codes))

    def _count_code(self, code: str, batch: _Batch, mark: str) -> _CodeResult:
        """The link item, then the stats item: no stats item is written for a missing link."""
        result = _CodeResult()
        # The code's clicks in the whole batch: what each item gets unless its mark is in it.
        whole = batch.counts_after(code, batch.first - 1)
        try:
            self._write_item(code, code, batch, mark, whole, result)
            self._write_item(stats_key(code), code, batch, mark, whole, result)
        except _LinkMissing:
            result.missing = whole.human + whole.bots
            # The clicks have nowhere to go, and writing them would create a stray item.
            logger.warning("dropped %d clicks for missing link %s", result.missing, code)
        except Exception as error:
            result.error = error
        return result

    def _write_item(
        self,
        key: str,
        code: str,
        batch: _Batch,
        mark: str,
        whole: CodeCounts,
        result: _CodeResult,
    ) -> None:
        is_link = key == code
        # The item's mark as last seen, once an update was refused for it.
        seen: int | None = None
        fold = False
        for _ in range(MAX_MARK_RACES):
            counts = whole if seen is None else batch.counts_after(code, seen)
            if not (counts.human + counts.bots if is_link else counts.human):
                return
            if is_link:
                request = _link_update(self.table_name, code, counts)
            else:
                request = _stats_update(self.table_name, code, counts, fold=fold)
            _guard_with_mark(request, mark, batch, seen, require_item=is_link)
            try:
                self.client.update_item(**request)
            except ClientError as error:
                if not is_link and not fold and _is_size_limit(error):
                    # The stats item would pass DynamoDB's 400 KB item limit: this batch's new
                    # referrers for the code are counted as one bucket.
                    fold = True
                    continue
                refused_at = seen
                seen = _mark_of_refused(error, mark, require_item=is_link)
                if refused_at is None:
                    result.already_counted += 1
                if seen is not None and seen >= batch.last:
                    return
                continue
            result.writes += 1
            if is_link:
                result.human += counts.human
                result.bots += counts.bots
            return
        raise RuntimeError(f"the mark on {key} kept moving")

    def _read_checkpoint(self, key: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table_name,
            Key={PARTITION_KEY: {"S": key}},
            ConsistentRead=True,
        ).get("Item")
        return item["seq"]["S"] if item else None

    def _move_checkpoint(
        self, key: str, sequence_number: str, mark: str, outcome: BatchOutcome
    ) -> None:
        """Only a shortcut for batches delivered again: the marks keep the counts exact."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={PARTITION_KEY: {"S": key}},
                UpdateExpression="SET #seq = :seq, #exp = :exp, #mark = :mark",
                ConditionExpression="attribute_not_exists(#seq) OR #seq < :seq",
                ExpressionAttributeNames={"#seq": "seq", "#exp": "expires_at", "#mark": "mark"},
                ExpressionAttributeValues={
                    ":seq": {"S": checkpoint_mark(sequence_number)},
                    ":exp": {"N": str(int(self.clock()) + CHECKPOINT_TTL_SECONDS)},
                    ":mark": {"S": mark},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                # Everything is counted; the next batch moves the checkpoint past this one.
                logger.warning("could not move the checkpoint of %s: %s", key, error)
            return
        outcome.item_writes += 1


def _is_size_limit(error: ClientError) -> bool:
    reason = error.response.get("Error", {})
    return reason.get("Code") == "ValidationException" and _SIZE_LIMIT_MESSAGE in reason.get(
        "Message", ""
    )


def _mark_of_refused(error: ClientError, mark: str, *, require_item: bool) -> int | None:
    """The item's mark from a conditional update's refusal; raises any other error."""
    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
        raise error
    response: dict[str, Any] = dict(error.response)
    old: dict[str, Any] = response.get("Item") or {}
    if require_item and LINK_TARGET not in old:
        raise _LinkMissing() from None
    value = old.get(mark, {}).get("S")
    return None if value is None else mark_sequence(value)


# The attribute every live link has and a tombstone lacks (shared.contracts.table's layout).
LINK_TARGET = "original_url"


def _guard_with_mark(
    request: dict[str, Any], mark: str, batch: _Batch, seen: int | None, *, require_item: bool
) -> None:
    """Set the item's mark to the batch's last record, if it is still below what is added."""
    request["UpdateExpression"] = "SET #mark = :last " + request["UpdateExpression"]
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    names["#mark"] = mark
    values[":last"] = {"S": mark_value(batch.last)}
    if seen is None:
        condition = "(attribute_not_exists(#mark) OR #mark < :first)"
        values[":first"] = {"S": mark_value(batch.first)}
    else:
        condition = "#mark = :seen"
        values[":seen"] = {"S": mark_value(seen)}
    if require_item:
        # A live link: a deleted link's tombstone keeps its key but has no target, and clicks
        # still in the stream must neither count on it nor bring its statistics back.
        names["#url"] = LINK_TARGET
        condition = f"attribute_exists(#url) AND {condition}"
    request["ConditionExpression"] = condition
    # The item as it was, so a refused update says why without another read.
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"


def _link_update(table_name: str, code: str, counts: CodeCounts) -> dict[str, Any]:
    parts, names, values = [], {}, {}
    if counts.human:
        parts.append("#human :human")
        names["#human"] = CLICK_COUNT
        values[":human"] = {"N": str(counts.human)}
    if counts.bots:
        parts.append("#bots :bots")
        names["#bots"] = BOT_CLICKS
        values[":bots"] = {"N": str(counts.bots)}
    return {
        "TableName": table_name,
        "Key": {PARTITION_KEY: {"S": code}},
        "UpdateExpression": "ADD " + ", ".join(parts),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _stats_update(table_name: str, code: str, counts: CodeCounts, *, fold: bool) -> dict[str, Any]:
    if fold:
        counts.fold_referrers(keep=0)
    elif len(counts.breakdown) > MAX_COUNTERS_PER_UPDATE:
        # More distinct counters than one expression holds: keep the largest referrers.
        counts.fold_referrers(keep=MAX_COUNTERS_PER_UPDATE // 2)
    names, values, parts = {}, {}, []
    for index, (name, clicks) in enumerate(sorted(counts.breakdown.items())):
        names[f"#{index}"] = name
        values[f":{index}"] = {"N": str(clicks)}
        parts.append(f"#{index} :{index}")
    return {
        "TableName": table_name,
        "Key": {PARTITION_KEY: {"S": stats_key(code)}},
        "UpdateExpression": "ADD " + ", ".join(parts),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _dead_letter_entry(
    stream: str, shard: str, record: StreamRecord, reason: str
) -> dict[str, Any]:
    """Where to find a poison record in the stream again, and why; never the record itself.

    The payload holds the user agents and referrers the consumer exists to reduce, and the queue
    keeps messages for 14 days; the stream keeps the record for its retention, long enough for
    `get-shard-iterator --shard-iterator-type AT_SEQUENCE_NUMBER` (docs/runbooks/dlq-messages.md).
    """
    arrived_at = record.arrived_at
    return {
        "reason": reason,
        "stream": stream,
        "shard": shard,
        "sequence_number": record.sequence_number,
        "approximate_arrival": None if arrived_at is None else _iso(arrived_at),
        "size_bytes": len(record.data),
    }


def _iso(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")

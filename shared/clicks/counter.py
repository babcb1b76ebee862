"""Click counters, the write side: how a batch of stream records becomes a few atomic writes.

Layout (all in the links table, so every replica serves stats locally; the names are
shared.contracts.table's, and shared.clicks.stats reads them):
- the link item `{code}` carries `click_count` (human clicks) and `bot_clicks`, both lifetime;
- the stats item `stats#{code}` carries the human breakdown as flat numeric attributes:
  `d:YYYY-MM-DD` per UTC day, `r:<referrer host>`, `c:<country>` and `v:<device class>`;
- the checkpoint item `checkpoint#{stream}#{shard}` marks the last record (or record part)
  counted.
`#` is outside the short-code alphabet, so neither kind of key can ever be a short code, and the
redirect answers such a path with 404 before reading the table. The breakdown lives apart from
the link so the link item, which every redirect reads, stays small.

A batch from one shard is committed in chunks. Each chunk is one TransactWriteItems: one `ADD`
per code on the link item, one `ADD` per code on its stats item, and the checkpoint moved from
the value read to the chunk's last sequence number under a condition. A redelivered record is
at or below the checkpoint and is skipped, so the consumer itself never counts a record twice;
what remains is a producer delivering the same click twice in different batches (docs/analytics.md).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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

# TransactWriteItems takes at most 100 actions: the checkpoint plus two per code.
MAX_CODES_PER_TRANSACTION = 49
# An update expression may be at most 4 KB; "#n :n, " per counter leaves room for this many.
MAX_COUNTERS_PER_UPDATE = 300
# Kinesis sequence numbers are decimal strings of varying length; padded, they compare as text.
SEQUENCE_WIDTH = 80
LAST_PART = "99999"
# A checkpoint outlives the stream's retention (at most 365 days) and then expires by TTL.
CHECKPOINT_TTL_SECONDS = 400 * 86400
MAX_CHECKPOINT_RACES = 3


def padded(sequence_number: str) -> str:
    return sequence_number.zfill(SEQUENCE_WIDTH)


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
class _Piece:
    """A record, or one part of a record too large for one transaction, with its progress mark."""

    record: StreamRecord
    events: list[ClickEvent]
    mark: str
    poison: str | None = None
    # Which part of its record this is (1-based) and of how many.
    part: int = 1
    parts: int = 1


def _mark(sequence_number: str, part: int | None) -> str:
    # The checkpoint orders pieces: a record's parts, then the record as done.
    return f"{padded(sequence_number)}:{LAST_PART if part is None else f'{part:05d}'}"


@dataclass
class _Chunk:
    pieces: list[_Piece] = field(default_factory=list)
    counts: dict[str, CodeCounts] = field(default_factory=dict)

    @property
    def last_mark(self) -> str:
        return self.pieces[-1].mark


@dataclass
class BatchOutcome:
    """What a batch did; `failed_from` is the first sequence number Lambda must deliver again."""

    human_clicks: int = 0
    bot_clicks: int = 0
    skipped_records: int = 0
    duplicate_clicks: int = 0
    poison_records: int = 0
    missing_link_clicks: int = 0
    transactions: int = 0
    item_writes: int = 0
    failed_from: str | None = None


class CheckpointMoved(Exception):
    """Another invocation committed this shard past what this one read."""


DeadLetter = Callable[[list[dict[str, Any]]], None]


class ClickCounter:
    """Counts one shard's batches into the links table. Takes its clients as parameters."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        dead_letter: DeadLetter,
        clock: Callable[[], float],
    ):
        self.client = client
        self.table_name = table_name
        self.dead_letter = dead_letter
        self.clock = clock

    def count(self, stream: str, shard: str, records: Sequence[StreamRecord]) -> BatchOutcome:
        key = checkpoint_key(stream, shard)
        for _ in range(MAX_CHECKPOINT_RACES):
            outcome = BatchOutcome()
            committed = self._read_checkpoint(key)
            try:
                self._count_after(stream, shard, key, committed, records, outcome)
                return outcome
            except CheckpointMoved:
                logger.warning(
                    "the checkpoint of %s moved during the batch; reading it again", shard
                )
        raise RuntimeError(f"the checkpoint of {shard} kept moving; the batch will be retried")

    def _count_after(
        self,
        stream: str,
        shard: str,
        key: str,
        committed: str | None,
        records: Sequence[StreamRecord],
        outcome: BatchOutcome,
    ) -> None:
        seen: set[str] = set()
        pieces: list[_Piece] = []
        for record in records:
            if committed is not None and _mark(record.sequence_number, None) <= committed:
                outcome.skipped_records += 1
                continue
            for piece in self._pieces(record, seen, outcome):
                if committed is None or piece.mark > committed:
                    pieces.append(piece)
        for chunk in _chunks(pieces):
            try:
                poison = [piece for piece in chunk.pieces if piece.poison is not None]
                if poison:
                    # Before the commit: a failure here retries the chunk, so a poison record
                    # may reach the queue twice but is never lost past the checkpoint.
                    self.dead_letter([_dead_letter_entry(stream, shard, p) for p in poison])
                self._commit(key, committed, chunk, outcome)
                outcome.poison_records += len(poison)
            except CheckpointMoved:
                raise
            except Exception:
                # The record named is where a replay starts (docs/runbooks/dlq-messages.md); a
                # part other than the first means that record's earlier parts were counted.
                first = chunk.pieces[0]
                logger.exception(
                    "could not count a chunk of shard %s from record %s (part %d of %d)",
                    shard,
                    first.record.sequence_number,
                    first.part,
                    first.parts,
                )
                # Lambda delivers this record and everything after it again; the parts of it
                # already committed are behind the checkpoint and are skipped.
                outcome.failed_from = chunk.pieces[0].record.sequence_number
                return
            committed = chunk.last_mark

    def _pieces(self, record: StreamRecord, seen: set[str], outcome: BatchOutcome) -> list[_Piece]:
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
            return [_Piece(record, [], _mark(record.sequence_number, None), reason)]
        unique = []
        for event in events:
            if event.id in seen:
                outcome.duplicate_clicks += 1
                continue
            seen.add(event.id)
            unique.append(event)
        parts = _split(unique)
        return [
            _Piece(
                record,
                part,
                _mark(record.sequence_number, None if index == len(parts) - 1 else index),
                part=index + 1,
                parts=len(parts),
            )
            for index, part in enumerate(parts)
        ]

    def _read_checkpoint(self, key: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table_name,
            Key={PARTITION_KEY: {"S": key}},
            ConsistentRead=True,
        ).get("Item")
        return item["seq"]["S"] if item else None

    def _commit(
        self, key: str, committed: str | None, chunk: _Chunk, outcome: BatchOutcome
    ) -> None:
        counts = {code: _copy(c) for code, c in chunk.counts.items()}
        for _ in range(len(counts) + 2):
            actions = [self._checkpoint_action(key, committed, chunk.last_mark)]
            targets: list[tuple[str, str]] = []
            for code, code_counts in counts.items():
                actions.append(_link_action(self.table_name, code, code_counts))
                targets.append(("link", code))
                if code_counts.human:
                    actions.append(_stats_action(self.table_name, code, code_counts))
                    targets.append(("stats", code))
            try:
                self.client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if not reasons:
                    raise
                if reasons[0] == "ConditionalCheckFailed":
                    raise CheckpointMoved() from None
                if not _drop_or_fold(counts, targets, reasons[1:], outcome):
                    raise
                continue
            outcome.transactions += 1
            outcome.item_writes += len(actions)
            for code_counts in counts.values():
                outcome.human_clicks += code_counts.human
                outcome.bot_clicks += code_counts.bots
            return
        raise RuntimeError("a chunk's transaction kept being cancelled")

    def _checkpoint_action(self, key: str, committed: str | None, mark: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":seq": {"S": mark},
            ":exp": {"N": str(int(self.clock()) + CHECKPOINT_TTL_SECONDS)},
        }
        if committed is None:
            condition = "attribute_not_exists(#seq)"
        else:
            condition = "#seq = :committed"
            values[":committed"] = {"S": committed}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {PARTITION_KEY: {"S": key}},
                "UpdateExpression": "SET #seq = :seq, #exp = :exp",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#seq": "seq", "#exp": "expires_at"},
                "ExpressionAttributeValues": values,
            }
        }


def _drop_or_fold(
    counts: dict[str, CodeCounts],
    targets: list[tuple[str, str]],
    reasons: list[str | None],
    outcome: BatchOutcome,
) -> bool:
    """Adjust a cancelled chunk so it can commit; False when the cause is not one we can fix."""
    fixed = False
    for (kind, code), reason in zip(targets, reasons, strict=False):
        if kind == "link" and reason == "ConditionalCheckFailed":
            # The link was deleted (or expired and removed by TTL): its clicks have nowhere to
            # go, and writing them would create a stray item.
            dropped = counts.pop(code)
            outcome.missing_link_clicks += dropped.human + dropped.bots
            logger.warning(
                "dropped %d clicks for missing link %s", dropped.human + dropped.bots, code
            )
            fixed = True
        elif kind == "stats" and reason == "ValidationError" and code in counts:
            # The stats item would pass DynamoDB's 400 KB item limit: from now on this code's
            # new referrers in the chunk are counted as one bucket.
            counts[code].fold_referrers(keep=0)
            fixed = True
    return fixed


def _link_action(table_name: str, code: str, counts: CodeCounts) -> dict[str, Any]:
    parts, values = [], {}
    if counts.human:
        parts.append("#human :human")
        values[":human"] = {"N": str(counts.human)}
    if counts.bots:
        parts.append("#bots :bots")
        values[":bots"] = {"N": str(counts.bots)}
    names = {"#pk": PARTITION_KEY}
    if counts.human:
        names["#human"] = CLICK_COUNT
    if counts.bots:
        names["#bots"] = BOT_CLICKS
    return {
        "Update": {
            "TableName": table_name,
            "Key": {PARTITION_KEY: {"S": code}},
            "UpdateExpression": "ADD " + ", ".join(parts),
            "ConditionExpression": "attribute_exists(#pk)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _stats_action(table_name: str, code: str, counts: CodeCounts) -> dict[str, Any]:
    names, values, parts = {}, {}, []
    for index, (name, clicks) in enumerate(sorted(counts.breakdown.items())):
        names[f"#{index}"] = name
        values[f":{index}"] = {"N": str(clicks)}
        parts.append(f"#{index} :{index}")
    return {
        "Update": {
            "TableName": table_name,
            "Key": {PARTITION_KEY: {"S": stats_key(code)}},
            "UpdateExpression": "ADD " + ", ".join(parts),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _fits(counts: dict[str, CodeCounts]) -> bool:
    return len(counts) <= MAX_CODES_PER_TRANSACTION and all(
        len(c.breakdown) <= MAX_COUNTERS_PER_UPDATE for c in counts.values()
    )


def _split(events: list[ClickEvent]) -> list[list[ClickEvent]]:
    """A record's clicks in parts that each fit one transaction (one part, nearly always).

    A log subscription record can hold thousands of clicks on hundreds of codes. Parts group
    whole codes, in code order, so the same record always splits the same way.
    """
    counts = aggregate(events)
    for code_counts in counts.values():
        if len(code_counts.breakdown) > MAX_COUNTERS_PER_UPDATE:
            # More distinct counters than one expression holds: keep the largest referrers.
            code_counts.fold_referrers(keep=MAX_COUNTERS_PER_UPDATE // 2)
    if _fits(counts):
        return [events]
    by_code: dict[str, list[ClickEvent]] = {}
    for event in events:
        by_code.setdefault(event.code, []).append(event)
    parts: list[list[ClickEvent]] = []
    part_codes: dict[str, CodeCounts] = {}
    for code in sorted(by_code):
        trial = {**part_codes, code: counts[code]}
        if not _fits(trial):
            parts.append([e for c in part_codes for e in by_code[c]])
            trial = {code: counts[code]}
        part_codes = trial
    parts.append([e for c in part_codes for e in by_code[c]])
    return parts


def _chunks(pieces: list[_Piece]) -> Iterable[_Chunk]:
    """Consecutive pieces grouped so each group fits one transaction."""
    chunk = _Chunk()
    for piece in pieces:
        trial = {code: _copy(counts) for code, counts in chunk.counts.items()}
        for event in piece.events:
            trial.setdefault(event.code, CodeCounts()).add(event)
        if not _fits(trial) and chunk.pieces:
            yield chunk
            chunk = _Chunk()
            trial = aggregate(piece.events)
        for counts in trial.values():
            if len(counts.breakdown) > MAX_COUNTERS_PER_UPDATE:
                counts.fold_referrers(keep=MAX_COUNTERS_PER_UPDATE // 2)
        chunk.pieces.append(piece)
        chunk.counts = trial
    if chunk.pieces:
        yield chunk


def _copy(counts: CodeCounts) -> CodeCounts:
    return CodeCounts(counts.human, counts.bots, Counter(counts.breakdown))


def _dead_letter_entry(stream: str, shard: str, piece: _Piece) -> dict[str, Any]:
    """Where to find a poison record in the stream again, and why; never the record itself.

    The payload holds the user agents and referrers the consumer exists to reduce, and the queue
    keeps messages for 14 days; the stream keeps the record for its retention, long enough for
    `get-shard-iterator --shard-iterator-type AT_SEQUENCE_NUMBER` (docs/runbooks/dlq-messages.md).
    """
    arrived_at = piece.record.arrived_at
    return {
        "reason": piece.poison,
        "stream": stream,
        "shard": shard,
        "sequence_number": piece.record.sequence_number,
        "approximate_arrival": None if arrived_at is None else _iso(arrived_at),
        "size_bytes": len(piece.record.data),
    }


def _iso(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")

"""Which CloudFront paths a batch of links-table stream records makes stale (docs/edge.md).

Standard library only: the invalidator function turns a DynamoDB stream batch into one
`CreateInvalidation` request with `paths_for_batch`. A record matters only when it is a link
(or its tombstone) whose redirect answer may have changed: its URL, redirect type, status or
expiry changed, or the item was removed (deleted outright or by TTL). New links are not
invalidated. Stats, history, checkpoint and idempotency items, and changes to click counters
only, never matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts.table import PARTITION_KEY, REDIRECT_PROJECTION

# Every other item of the table lives under a key with a `#`, which no short code contains.
_NOT_A_CODE = "#"
# CloudFront counts every path of an invalidation against 3,000 in progress per distribution and
# bills each beyond 1,000 a month; `/*` counts as one path and drops the whole cache.
WILDCARD = "/*"
DEFAULT_MAX_PATHS = 100


@dataclass(frozen=True)
class Invalidation:
    """What to invalidate for one batch: `paths` (empty: nothing) and the codes behind them."""

    paths: tuple[str, ...]
    codes: tuple[str, ...]

    @property
    def wildcard(self) -> bool:
        return self.paths == (WILDCARD,)


def _code(record: Mapping[str, Any]) -> str | None:
    keys = record.get("dynamodb", {}).get("Keys", {})
    value = keys.get(PARTITION_KEY, {}).get("S")
    if not isinstance(value, str) or not value or _NOT_A_CODE in value:
        return None
    return value


def _redirect_view(image: Mapping[str, Any] | None) -> dict[str, Any]:
    image = image or {}
    return {name: image.get(name) for name in REDIRECT_PROJECTION}


def changed_code(record: Mapping[str, Any]) -> str | None:
    """The short code whose redirect answer this stream record may have changed, or None."""
    code = _code(record)
    if code is None:
        return None
    event = record.get("eventName")
    stream = record.get("dynamodb", {})
    if event == "REMOVE":
        return code
    # An INSERT is a new link: nothing but a 404 can be cached for its code, and a 404 is kept
    # 60 s at most (docs/edge.md); invalidating every create would spend a path per create.
    if event == "MODIFY":
        before = _redirect_view(stream.get("OldImage"))
        after = _redirect_view(stream.get("NewImage"))
        return code if before != after else None
    return None


def paths_for_batch(
    records: Iterable[Mapping[str, Any]], max_paths: int = DEFAULT_MAX_PATHS
) -> Invalidation:
    """`/{code}` once per changed code, in first-seen order; `/*` alone beyond `max_paths`."""
    if max_paths < 1:
        raise ValueError("max_paths must be at least 1")
    codes: dict[str, None] = {}
    for record in records:
        code = changed_code(record)
        if code is not None:
            codes.setdefault(code, None)
    ordered = tuple(codes)
    if not ordered:
        return Invalidation((), ())
    if len(ordered) > max_paths:
        return Invalidation((WILDCARD,), ordered)
    return Invalidation(tuple(f"/{code}" for code in ordered), ordered)


def settle_seconds(records: Iterable[Mapping[str, Any]], now: float, memory_ttl: float) -> float:
    """How long to wait before invalidating, so that no edge function still remembers a lookup
    read before the newest change: CloudFront refilled from such a lookup would keep the old
    answer for its whole lifetime. Zero once `memory_ttl` has passed since the newest record."""
    newest = max(
        (
            float(record["dynamodb"]["ApproximateCreationDateTime"])
            for record in records
            if "ApproximateCreationDateTime" in record.get("dynamodb", {})
        ),
        default=None,
    )
    if newest is None:
        return 0.0
    return max(0.0, min(memory_ttl, newest + memory_ttl - now))


def invalidation_batch(invalidation: Invalidation, caller_reference: str) -> dict[str, Any]:
    """The `InvalidationBatch` argument of CloudFront's `create_invalidation`."""
    return {
        "Paths": {"Quantity": len(invalidation.paths), "Items": list(invalidation.paths)},
        "CallerReference": caller_reference,
    }

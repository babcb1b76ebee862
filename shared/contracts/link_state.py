"""A link's lifecycle: its state at a given moment and how its times are written.

Standard library only, shared by the redirect hot path and the API functions.
"""

from __future__ import annotations

from datetime import UTC, datetime

ACTIVE = "active"
DISABLED = "disabled"
EXPIRED = "expired"
# A tombstone's status: the link was deleted; its code answers 410 and is never assigned again.
DELETED = "deleted"

# What a link's owner may set (PATCH); `expired` follows from `expires_at`.
SETTABLE_STATUSES = (ACTIVE, DISABLED)
# What `GET /urls?status=` may ask for.
LISTED_STATES = (ACTIVE, DISABLED, EXPIRED)


def link_state(status: str | None, expires_at: int | None, now: float) -> str:
    """`expired` as soon as `expires_at` has passed, even before DynamoDB's TTL deletes the item."""
    if status == DELETED:
        return DELETED
    if status == DISABLED:
        return DISABLED
    if expires_at is not None and expires_at <= now:
        return EXPIRED
    return ACTIVE


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 UTC with a `Z`, to the second: `2026-11-23T12:00:00Z`."""
    return datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

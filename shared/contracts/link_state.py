"""A link's lifecycle: its state at a given moment and how its times are written.

Standard library only, shared by the redirect hot path and the API functions.
"""

from __future__ import annotations

from datetime import UTC, datetime

ACTIVE = "active"
DISABLED = "disabled"
EXPIRED = "expired"


def link_state(status: str | None, expires_at: int | None, now: float) -> str:
    """`expired` as soon as `expires_at` has passed, even before DynamoDB's TTL deletes the item."""
    if status == DISABLED:
        return DISABLED
    if expires_at is not None and expires_at <= now:
        return EXPIRED
    return ACTIVE


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 UTC with a `Z`, to the second: `2026-11-23T12:00:00Z`."""
    return datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

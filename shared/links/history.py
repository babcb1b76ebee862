"""A link's history (docs/api.md section 7): what each version changed, who changed it, when.

One item per version (`history#{code}#{n}`, shared.contracts.table), written in the same
transaction as the change, so the history is exactly the committed versions and no item grows
with the number of edits. This module builds the entries and shows them; the repository stores
and reads them.
"""

from __future__ import annotations

import json
from typing import Any

from shared.contracts.link_state import iso_utc

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"

# The fields a history entry follows, as the API shows them.
TRACKED = ("original_url", "redirect_type", "expires_at", "status", "title", "tags")


def tracked(values: dict[str, Any]) -> dict[str, Any]:
    """A stored link's tracked fields as the API shows them (the expiry as ISO 8601 UTC)."""
    expires = values.get("expires_at")
    return {
        "original_url": values.get("original_url"),
        "redirect_type": values.get("redirect_type"),
        "expires_at": iso_utc(int(expires)) if expires is not None else None,
        "status": values.get("status"),
        "title": values.get("title"),
        "tags": list(values.get("tags") or []),
    }


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """{field: [old, new]} for every tracked field that differs; a side that does not exist
    (before a create, after a delete) has no values."""
    old, new = tracked(before or {}), tracked(after or {})
    return {field: [old[field], new[field]] for field in TRACKED if old[field] != new[field]}


def entry(
    key: str, *, at: float, actor: str, action: str, changed: dict[str, list[Any]]
) -> dict[str, Any]:
    """The item of one history entry. `changes` is stored as JSON text: its values keep their
    JSON types exactly, and no attribute of the item is a key of any index."""
    return {
        "short_code": key,
        "at": iso_utc(at),
        "actor": actor,
        "action": action,
        "changes": json.dumps(changed, separators=(",", ":"), sort_keys=True),
    }


def entry_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": item["at"],
        "actor": item["actor"],
        "action": item["action"],
        "changes": json.loads(item["changes"]),
    }

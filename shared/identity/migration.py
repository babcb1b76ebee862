"""Claiming links created under an API key id for a user (docs/identity.md, "Migration").

Before docs/api.md section 8, a link's owner was the API key id of the region it was created
in. A claim moves every link of that key id to the user's id, one conditional transaction per
link, written to the home-region table (a global table: every region sees the new owner), with
a history entry naming the user as the actor and `owner_id` as the change. Safe to run again: a
link already moved is no longer under the key id.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.link_state import iso_utc
from shared.contracts.table import VERSION, history_key
from shared.identity.account import owned_items
from shared.links import history, repository
from shared.settings import Settings


def claim_links(
    client: Any, config: Settings, *, from_owner: str, to_owner: str, now: float
) -> tuple[int, int]:
    """(links moved, links skipped because they changed meanwhile: run again)."""
    if not from_owner or not to_owner or from_owner == to_owner:
        raise ValueError("from_owner and to_owner must be two different owner ids")
    moved = skipped = 0
    for item in list(owned_items(client, config, from_owner)):
        code = item["short_code"]
        version = int(item.get(VERSION, 1))
        entry = history.entry(
            history_key(code, version + 1),
            at=now,
            actor=to_owner,
            action=history.UPDATED,
            changed={"owner_id": [from_owner, to_owner]},
        )
        committed = repository.update_link(
            client,
            config.table_name,
            code,
            owner_id=from_owner,
            read_version=version,
            stored_version=VERSION in item,
            assign={"owner_id": to_owner, "updated_at": iso_utc(now), VERSION: version + 1},
            remove=(),
            entry=entry,
        )
        if committed:
            moved += 1
        else:
            skipped += 1
    return moved, skipped

"""POST /urls/bulk: many create bodies in one request, each answered on its own, in order.

Each item goes through exactly what a single POST /urls does (the same parsing, URL rules,
deduplication and conditional write), so an item's result is the single create's status and
link, or its error body. A bad item never stops the others.
"""

from __future__ import annotations

from typing import Any

from shared.links import service
from shared.links.errors import SqurlError
from shared.links.models import item_body, parse_create_request
from shared.links.urls import UrlPolicy
from shared.settings import Settings


def create_each(
    client: Any,
    config: Settings,
    policy: UrlPolicy,
    items: list[Any],
    *,
    owner_id: str,
    now: float,
) -> list[dict[str, Any]]:
    """One result per item, in order: `{"status": 201|200, "link"}` or `{"status", "error"}`.

    Two equal items without a custom code answer with one link (201, then 200), as two single
    creates would: the second does not depend on the dedup index having caught up yet.
    """
    made: dict[service.NewLink, dict[str, Any]] = {}
    results = []
    for item in items:
        try:
            new = service.prepare_create(parse_create_request(item_body(item)), policy, now)
            if new.custom_code is None and new in made:
                results.append({"status": 200, "link": made[new]})
                continue
            status, link = service.create_prepared(client, config, new, owner_id=owner_id, now=now)
        except SqurlError as error:
            results.append({"status": error.status, "error": error.body()})
            continue
        if new.custom_code is None:
            made[new] = link
        results.append({"status": status, "link": link})
    return results

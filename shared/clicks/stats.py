"""Click statistics, the read side: `GET /urls/{code}/stats` from a link's counter items.

The consumer (shared.clicks.counter) writes the counters; this module only reads them, so the API
function that serves stats imports neither the counter nor the stream records.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.codes import is_possible_code
from shared.contracts.link_state import DELETED
from shared.contracts.table import (
    BOT_CLICKS,
    CLICK_COUNT,
    COUNTRY,
    DAY,
    DEVICE,
    PARTITION_KEY,
    REFERRER,
    stats_key,
)
from shared.links import repository
from shared.links.errors import NotFound


def link_stats(stats_item: dict[str, Any] | None, link_item: dict[str, Any]) -> dict[str, Any]:
    """The stats response for a link, from its (deserialized) link and stats items."""
    daily: dict[str, int] = {}
    referrers: dict[str, int] = {}
    countries: dict[str, int] = {}
    devices: dict[str, int] = {}
    buckets = {DAY: daily, REFERRER: referrers, COUNTRY: countries, DEVICE: devices}
    for name, value in (stats_item or {}).items():
        prefix = name[:2]
        if prefix in buckets and name != PARTITION_KEY:
            buckets[prefix][name[2:]] = int(value)
    return {
        "short_code": link_item[PARTITION_KEY],
        "click_count": int(link_item.get(CLICK_COUNT, 0)),
        "bot_clicks": int(link_item.get(BOT_CLICKS, 0)),
        "daily": [{"date": day, "clicks": n} for day, n in sorted(daily.items())],
        "referrers": _ranked(referrers, "domain"),
        "countries": _ranked(countries, "country"),
        "devices": _ranked(devices, "device"),
    }


def _ranked(counts: dict[str, int], label: str) -> list[dict[str, Any]]:
    return [
        {label: name, "clicks": n}
        for name, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    ]


def owned_link_stats(client: Any, table_name: str, code: str, *, owner_id: str) -> dict[str, Any]:
    """GET /urls/{code}/stats: the link's counters, for its owner only (others get NotFound)."""
    if not is_possible_code(code):
        raise NotFound()
    link = repository.get_link(client, table_name, code, consistent=True)
    # A deleted link's statistics went with it (its tombstone has no owner either).
    if link is None or link.get("owner_id") != owner_id or link.get("status") == DELETED:
        raise NotFound()
    stats_item = repository.get_link(client, table_name, stats_key(code), consistent=True)
    return link_stats(stats_item, link)

"""What the API functions do, independent of how the request arrived."""

from __future__ import annotations

from typing import Any

from shared.contracts.codes import is_possible_code
from shared.contracts.link_state import ACTIVE, iso_utc, link_state
from shared.links import repository
from shared.links.codes import generate_code
from shared.links.errors import NotFound
from shared.links.models import CreateLinkRequest, link_view
from shared.links.urls import UrlPolicy, normalize_url
from shared.settings import Settings


def url_policy(config: Settings) -> UrlPolicy:
    return UrlPolicy.of(config.own_hosts, config.blocklist)


def create_link(
    client: Any,
    config: Settings,
    policy: UrlPolicy,
    request: CreateLinkRequest,
    *,
    owner_id: str,
    now: float,
) -> tuple[int, dict[str, Any]]:
    """Create (201) or, without a custom code, reuse the owner's matching link (200).

    `client` talks to the home region: creates are single-homed there, and reading the dedup
    index in the same region sees the owner's own recent writes.
    """
    original_url = normalize_url(request.original_url, policy)
    created = int(now)
    expires_at = created + request.ttl_hours * 3600 if request.ttl_hours is not None else None

    if request.custom_code is None:
        existing_code = repository.find_reusable(
            client,
            config.table_name,
            owner_id=owner_id,
            original_url=original_url,
            redirect_type=request.redirect_type,
            min_expires_at=expires_at,
            now=now,
        )
        if existing_code is not None:
            existing = repository.get_link(
                client, config.table_name, existing_code, consistent=True
            )
            # The index is eventually consistent: confirm on the item itself.
            if existing is not None and _still_reusable(existing, owner_id, now):
                return 200, link_view(existing, config.short_url(existing_code))

    values = {
        "original_url": original_url,
        "created_at": iso_utc(created),
        "expires_at": expires_at,
        "click_count": 0,
        "status": ACTIVE,
        "redirect_type": request.redirect_type,
        "owner_id": owner_id,
    }
    item = repository.create_link(
        client,
        config.table_name,
        values,
        custom_code=request.custom_code,
        new_code=lambda: generate_code(config.code_length),
    )
    return 201, link_view(item, config.short_url(item["short_code"]))


def _still_reusable(item: dict[str, Any], owner_id: str, now: float) -> bool:
    return item.get("owner_id") == owner_id and (
        link_state(item.get("status"), item.get("expires_at"), now) == ACTIVE
    )


def get_owned_link(
    client: Any, config: Settings, code: str, *, owner_id: str, now: float
) -> dict[str, Any]:
    """The link with its status and click count, for its owner only (others get NotFound)."""
    if not is_possible_code(code):
        raise NotFound()
    item = repository.get_link(client, config.table_name, code, consistent=True)
    if item is None or item.get("owner_id") != owner_id:
        raise NotFound()
    view = link_view(item, config.short_url(code))
    view["status"] = link_state(item.get("status"), item.get("expires_at"), now)
    view["click_count"] = int(item.get("click_count", 0))
    return view

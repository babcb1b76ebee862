"""What the API functions do, independent of how the request arrived."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from shared.contracts.codes import is_possible_code
from shared.contracts.link_state import ACTIVE, DELETED, iso_utc, link_state
from shared.contracts.table import DELETED_BY, PARTITION_KEY, VERSION, history_key
from shared.links import history, listing, repository
from shared.links.codes import generate_code
from shared.links.errors import InternalServerError, NotFound, PreconditionFailed, ValidationError
from shared.links.models import (
    MAX_TTL_HOURS,
    CreateLinkRequest,
    UpdateLinkRequest,
    link_view,
    matches,
    parse_utc_time,
)
from shared.links.urls import UrlPolicy, normalize_url
from shared.settings import Settings

# Candidates from the dedup index confirmed on their items before a new link is made.
MAX_DEDUP_CANDIDATES = 5
# A change that keeps losing to concurrent ones is retried this often, then refused.
MAX_CHANGE_ATTEMPTS = 5
# A filtered page reads at most this many Queries of this many items before it answers with
# what it found and a cursor after everything it read.
MAX_QUERIES_PER_PAGE = 10
FILTERED_READ = 100


def url_policy(config: Settings) -> UrlPolicy:
    return UrlPolicy.of(config.own_hosts, config.blocklist)


@dataclass(frozen=True)
class NewLink:
    """A create request with its rules applied: nothing is stored until `create_prepared`."""

    original_url: str
    custom_code: str | None
    redirect_type: int
    expires_at: int | None
    title: str | None
    tags: tuple[str, ...]


def prepare_create(request: CreateLinkRequest, policy: UrlPolicy, now: float) -> NewLink:
    """Apply docs/api.md section 3's URL rules (InvalidUrl) and fix the expiry."""
    return NewLink(
        original_url=normalize_url(request.original_url, policy),
        custom_code=request.custom_code,
        redirect_type=request.redirect_type,
        expires_at=int(now) + request.ttl_hours * 3600 if request.ttl_hours is not None else None,
        title=request.title,
        tags=tuple(request.tags),
    )


def create_link(
    client: Any,
    config: Settings,
    policy: UrlPolicy,
    request: CreateLinkRequest,
    *,
    owner_id: str,
    now: float,
) -> tuple[int, dict[str, Any]]:
    """Create (201) or, without a custom code, reuse the owner's matching link (200)."""
    new = prepare_create(request, policy, now)
    return create_prepared(client, config, new, owner_id=owner_id, now=now)


def create_prepared(
    client: Any,
    config: Settings,
    new: NewLink,
    *,
    owner_id: str,
    now: float,
    marker: Callable[[str], dict[str, Any]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Create (201) or, without a custom code, reuse the owner's matching link (200).

    `client` talks to the home region: creates are single-homed there, and reading the dedup
    index in the same region sees the owner's own recent writes. `marker(code)` is an item
    written in the create's transaction only if absent (an import row's; repository.create_link).
    """
    if new.custom_code is None:
        existing = _reusable_link(client, config, new, owner_id=owner_id, now=now)
        if existing is not None:
            return 200, link_view(existing, config.short_url(existing["short_code"]), now)

    values = new_link_values(new, owner_id=owner_id, now=now)
    item = repository.create_link(
        client,
        config.table_name,
        values,
        custom_code=new.custom_code,
        new_code=lambda: generate_code(config.code_length),
        first_entry=lambda code: first_history_entry(code, values, owner_id=owner_id, now=now),
        marker=marker,
    )
    return 201, link_view(item, config.short_url(item["short_code"]), now)


def new_link_values(new: NewLink, *, owner_id: str, now: float) -> dict[str, Any]:
    """A new link's stored values, its code aside."""
    created_at = iso_utc(now)
    return {
        "original_url": new.original_url,
        "created_at": created_at,
        "updated_at": created_at,
        "expires_at": new.expires_at,
        "click_count": 0,
        "status": ACTIVE,
        "redirect_type": new.redirect_type,
        "owner_id": owner_id,
        "title": new.title,
        "tags": list(new.tags),
        VERSION: 1,
    }


def first_history_entry(
    code: str, values: dict[str, Any], *, owner_id: str, now: float
) -> dict[str, Any]:
    return history.entry(
        history_key(code, 1),
        at=now,
        actor=owner_id,
        action=history.CREATED,
        changed=history.changes(None, values),
    )


def create_custom_batch(
    client: Any,
    config: Settings,
    batch: list[tuple[NewLink, dict[str, Any]]],
    *,
    owner_id: str,
    now: float,
) -> list[str | None] | None:
    """Create several links with custom codes (all distinct) in one transaction, each with its
    marker item (written only if absent): None when all were created, else, per link, why its
    actions were refused (None for a link whose actions were not). Nothing is stored then."""
    rows = []
    for new, marker in batch:
        assert new.custom_code is not None
        values = new_link_values(new, owner_id=owner_id, now=now)
        item = {**values, PARTITION_KEY: new.custom_code, "custom_code": True}
        entry = first_history_entry(new.custom_code, values, owner_id=owner_id, now=now)
        rows.append((item, entry, marker))
    return repository.put_new_batch(client, config.table_name, rows)


def _reusable_link(
    client: Any, config: Settings, new: NewLink, *, owner_id: str, now: float
) -> dict[str, Any] | None:
    candidates = repository.reusable_codes(
        client,
        config.table_name,
        owner_id=owner_id,
        original_url=new.original_url,
        redirect_type=new.redirect_type,
        min_expires_at=new.expires_at,
        now=now,
    )
    for code in islice(candidates, MAX_DEDUP_CANDIDATES):
        item = repository.get_link(client, config.table_name, code, consistent=True)
        # The index is eventually consistent (a link edited a moment ago may still be listed
        # under its old URL): confirm on the item itself.
        if item is not None and _still_reusable(item, new, owner_id, now):
            return item
    return None


def _still_reusable(item: dict[str, Any], new: NewLink, owner_id: str, now: float) -> bool:
    expires = item.get("expires_at")
    lives_long_enough = expires is None or (
        new.expires_at is not None and expires >= new.expires_at
    )
    return (
        item.get("owner_id") == owner_id
        and link_state(item.get("status"), expires, now) == ACTIVE
        and item.get("original_url") == new.original_url
        and item.get("redirect_type") == new.redirect_type
        and lives_long_enough
        # A create that names a title or tags asks for a link that has them.
        and item.get("title") == new.title
        and tuple(item.get("tags") or ()) == new.tags
    )


def _owned(item: dict[str, Any] | None, owner_id: str) -> bool:
    return item is not None and item.get("owner_id") == owner_id and item.get("status") != DELETED


def _read_owned(client: Any, config: Settings, code: str, owner_id: str) -> dict[str, Any]:
    if not is_possible_code(code):
        raise NotFound()
    item = repository.get_link(client, config.table_name, code, consistent=True)
    if item is None or not _owned(item, owner_id):
        raise NotFound()
    return item


def get_owned_link(
    client: Any, config: Settings, code: str, *, owner_id: str, now: float
) -> dict[str, Any]:
    """The link with its status and click count, for its owner only (others get NotFound)."""
    item = _read_owned(client, config, code, owner_id)
    return link_view(item, config.short_url(code), now)


# Listing -----------------------------------------------------------------------------------------


def list_links(
    client: Any, config: Settings, query: listing.ListQuery, *, owner_id: str, now: float
) -> dict[str, Any]:
    """One page of the owner's links, newest first, from the owner index alone.

    Without filters one Query reads exactly the items it returns. With filters, Queries go on
    (at most MAX_QUERIES_PER_PAGE) until the page is full or the index ends; a page that fills
    mid-Query ends its cursor at the last item shown, so what was read past it is read again by
    the next page rather than skipped.
    """
    conditions = listing.filters(query, now)
    start = {"owner_id": owner_id, **query.after} if query.after else None
    shown: list[dict[str, Any]] = []
    go_on: dict[str, Any] | None = None
    for _ in range(MAX_QUERIES_PER_PAGE):
        wanted = query.limit - len(shown)
        batch, last, _ = repository.owner_page(
            client,
            config.table_name,
            owner_id,
            limit=wanted if conditions is None else max(wanted, FILTERED_READ),
            start=start,
            filters=conditions,
        )
        shown.extend(batch[:wanted])
        if len(batch) >= wanted:
            more = last is not None or len(batch) > wanted
            go_on = repository.index_position(shown[-1]) if more else None
            break
        if last is None:
            go_on = None  # the index is exhausted
            break
        # Everything read so far was filtered out: a page that stops here goes on after it.
        start = go_on = last
    return {
        "items": [link_view(item, config.short_url(item["short_code"]), now) for item in shown],
        "next_cursor": listing.encode_cursor(go_on) if go_on is not None else None,
    }


# Changes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Patch:
    """A PATCH body with its rules applied: each named field's new stored value."""

    values: dict[str, Any]


def prepare_patch(request: UpdateLinkRequest, policy: UrlPolicy, now: float) -> Patch:
    """Apply docs/api.md section 3's URL rules and the expiry rules before anything is read."""
    given = request.model_fields_set
    values: dict[str, Any] = {}
    if "original_url" in given and request.original_url is not None:
        values["original_url"] = normalize_url(request.original_url, policy)
    for field in ("redirect_type", "status", "title"):
        if field in given:
            values[field] = getattr(request, field)
    if "tags" in given and request.tags is not None:
        values["tags"] = list(request.tags)
    if "ttl_hours" in given and request.ttl_hours is not None:
        values["expires_at"] = int(now) + request.ttl_hours * 3600
    if "expires_at" in given:
        values["expires_at"] = _future_expiry(request.expires_at, now)
    return Patch(values)


def _future_expiry(text: str | None, now: float) -> int | None:
    if text is None:
        return None
    expires_at = parse_utc_time(text)
    if expires_at <= now:
        raise ValidationError(
            "expires_at must be in the future.", field="expires_at", reason="not_in_future"
        )
    if expires_at > now + MAX_TTL_HOURS * 3600:
        raise ValidationError(
            f"expires_at may be at most {MAX_TTL_HOURS} hours from now.",
            field="expires_at",
            reason="out_of_range",
        )
    return expires_at


def update_link(
    client: Any,
    config: Settings,
    code: str,
    patch: Patch,
    *,
    owner_id: str,
    if_match: frozenset[int] | None,
    now: float,
    actor: str | None = None,
) -> dict[str, Any]:
    """Apply a patch to the owner's link and record it, conditional on the version read.
    `actor` (default: the owner) is who the history names: an admin acting on the link.

    With If-Match, a version other than the one named is 412 and nothing changes. Without, a
    concurrent change makes the write fail its condition and the patch is applied again to what
    is stored then, so neither change is lost.
    """
    for _ in range(MAX_CHANGE_ATTEMPTS):
        item = _read_owned(client, config, code, owner_id)
        version = _check_version(item, if_match)
        after = {**item, **patch.values}
        changed = history.changes(item, after)
        if not changed:
            return link_view(item, config.short_url(code), now)
        after.update({"updated_at": iso_utc(now), VERSION: version + 1})
        named = (*patch.values, "updated_at", VERSION)
        assign = {name: after[name] for name in named if after[name] is not None}
        remove = tuple(name for name in named if after[name] is None)
        entry = history.entry(
            history_key(code, version + 1),
            at=now,
            actor=actor or owner_id,
            action=history.UPDATED,
            changed=changed,
        )
        if repository.update_link(
            client,
            config.table_name,
            code,
            owner_id=owner_id,
            read_version=version,
            stored_version=VERSION in item,
            assign=assign,
            remove=remove,
            entry=entry,
        ):
            return link_view(
                {k: v for k, v in after.items() if v is not None}, config.short_url(code), now
            )
    raise InternalServerError("The link kept changing while this change was made; try again.")


def delete_link(
    client: Any,
    config: Settings,
    code: str,
    *,
    owner_id: str,
    if_match: frozenset[int] | None,
    now: float,
) -> None:
    """Replace the owner's link by a tombstone, drop its statistics, record the deletion."""
    for _ in range(MAX_CHANGE_ATTEMPTS):
        item = _read_owned(client, config, code, owner_id)
        version = _check_version(item, if_match)
        tombstone = {
            "short_code": code,
            "status": DELETED,
            "created_at": item.get("created_at"),
            "updated_at": iso_utc(now),
            "custom_code": item.get("custom_code"),
            DELETED_BY: owner_id,
            VERSION: version + 1,
        }
        entry = history.entry(
            history_key(code, version + 1),
            at=now,
            actor=owner_id,
            action=history.DELETED,
            changed=history.changes(item, tombstone),
        )
        if repository.delete_link(
            client,
            config.table_name,
            code,
            owner_id=owner_id,
            read_version=version,
            stored_version=VERSION in item,
            tombstone=tombstone,
            entry=entry,
        ):
            return
    raise InternalServerError("The link kept changing while it was being deleted; try again.")


# Admin (docs/api.md section 8): members of the admin group may read any link and change its
# status, to stop abuse; the change is in the link's history with the admin as its actor.
ADMIN_PATCHABLE = frozenset({"status"})


def _read_any(client: Any, config: Settings, code: str) -> dict[str, Any]:
    if not is_possible_code(code):
        raise NotFound()
    item = repository.get_link(client, config.table_name, code, consistent=True)
    if item is None or item.get("status") == DELETED or not item.get("owner_id"):
        raise NotFound()
    return item


def get_any_link(client: Any, config: Settings, code: str, *, now: float) -> dict[str, Any]:
    """Any link, for an admin."""
    item = _read_any(client, config, code)
    return link_view(item, config.short_url(code), now)


def admin_update_status(
    client: Any,
    config: Settings,
    code: str,
    patch: Patch,
    *,
    admin_id: str,
    if_match: frozenset[int] | None,
    now: float,
) -> dict[str, Any]:
    """An admin's PATCH of another owner's link: `status` only (anything else is a 400)."""
    extra = sorted(set(patch.values) - ADMIN_PATCHABLE)
    if extra or not patch.values:
        raise ValidationError(
            "An admin may change only the status of another owner's link.",
            field=extra[0] if extra else "status",
            reason="admin_status_only",
        )
    item = _read_any(client, config, code)
    return update_link(
        client,
        config,
        code,
        patch,
        owner_id=item["owner_id"],
        if_match=if_match,
        now=now,
        actor=admin_id,
    )


def _check_version(item: dict[str, Any], if_match: frozenset[int] | None) -> int:
    version = int(item.get(VERSION, 1))
    if not matches(if_match, version):
        raise PreconditionFailed(details={"version": version})
    return version


def link_history(client: Any, config: Settings, code: str, *, owner_id: str) -> dict[str, Any]:
    """The link's history, oldest first, for its owner; a deleted link's for whoever deleted it."""
    if not is_possible_code(code):
        raise NotFound()
    item = repository.get_link(client, config.table_name, code, consistent=True)
    if item is None:
        raise NotFound()
    deleted_by_caller = item.get("status") == DELETED and item.get(DELETED_BY) == owner_id
    if not (_owned(item, owner_id) or deleted_by_caller):
        raise NotFound()
    entries = repository.history_entries(client, config.table_name, code, int(item.get(VERSION, 1)))
    return {"items": [history.entry_view(entry) for entry in entries]}


def owned_items(client: Any, config: Settings, owner_id: str) -> Any:
    """Every link item of the owner, newest first, from the owner index (100 a page)."""
    start = None
    while True:
        batch, last, _ = repository.owner_page(
            client, config.table_name, owner_id, limit=100, start=start, filters=None
        )
        yield from batch
        if last is None:
            return
        start = last


def delete_owned_links(client: Any, config: Settings, owner_id: str, now: float) -> int:
    """Delete every link of the owner as DELETE /urls/{code} does; how many were deleted."""
    codes = [item["short_code"] for item in owned_items(client, config, owner_id)]
    deleted = 0
    for code in codes:
        try:
            delete_link(client, config, code, owner_id=owner_id, if_match=None, now=now)
            deleted += 1
        except NotFound:
            continue  # deleted meanwhile
    return deleted

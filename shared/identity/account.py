"""The account routes' domain (docs/api.md section 8): token requests, the export of
everything an owner has (GDPR access) and its erasure (GDPR erasure)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from shared.clicks import stats
from shared.contracts.auth import SCOPES
from shared.contracts.link_state import iso_utc
from shared.contracts.table import VERSION, stats_key
from shared.identity.schemas import CreateTokenRequest
from shared.identity.tokens import MAX_EXPIRES_IN_DAYS, NAME_MAX, TokenStore
from shared.links import history, repository, service
from shared.links.errors import NotFound, ValidationError
from shared.links.models import link_view
from shared.settings import Settings

TOKEN_FIELDS = frozenset(CreateTokenRequest.model_fields)
PAGE = 100


def parse_token_request(data: dict[str, Any], allowed: frozenset[str]) -> tuple[str, tuple, int]:
    """(name, scopes, expires_in_days) of a POST /tokens body, validated with
    CreateTokenRequest (the OpenAPI document's schema). A caller may only grant scopes it has
    itself (`allowed`): a read-only token cannot mint a writing one."""
    try:
        request = CreateTokenRequest.model_validate(data)
    except PydanticValidationError as exc:
        raise _token_request_error(exc) from None
    beyond = sorted(set(request.scopes) - allowed)
    if beyond:
        raise ValidationError(
            f"A token cannot grant a scope it does not have ({beyond[0]}).",
            field="scopes",
            reason="scope",
        )
    return request.name, tuple(request.scopes), request.expires_in_days


_TOKEN_FIELD_ERRORS = {
    "name": (f"name is required: 1-{NAME_MAX} characters.", "invalid"),
    "scopes": (f"scopes must be a non-empty list of {', '.join(SCOPES)}.", "invalid"),
    "expires_in_days": (
        f"expires_in_days must be an integer 1..{MAX_EXPIRES_IN_DAYS}.",
        "out_of_range",
    ),
}


def _token_request_error(exc: PydanticValidationError) -> ValidationError:
    """The first problem, as before the model: an unknown field first, then name, scopes and
    expires_in_days in that order."""
    fields = [str(error["loc"][0]) for error in exc.errors() if error["loc"]]
    unknown = sorted(f for f in fields if f not in TOKEN_FIELDS)
    if unknown:
        return ValidationError(
            f"Unknown field {unknown[0]!r}.", field=unknown[0], reason="unknown_field"
        )
    field = next((f for f in _TOKEN_FIELD_ERRORS if f in fields), "name")
    message, reason = _TOKEN_FIELD_ERRORS[field]
    return ValidationError(message, field=field, reason=reason)


def owned_items(client: Any, config: Settings, owner_id: str) -> Iterator[dict[str, Any]]:
    """Every link item of the owner, newest first, from the owner index."""
    start = None
    while True:
        batch, last, _ = repository.owner_page(
            client, config.table_name, owner_id, limit=PAGE, start=start, filters=None
        )
        yield from batch
        if last is None:
            return
        start = last


def export(
    client: Any,
    config: Settings,
    tokens: TokenStore,
    *,
    user: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    """One JSON document: the user, every link with its stats and history, every token
    (never a secret or hash)."""
    links = []
    for item in owned_items(client, config, user["user_id"]):
        code = item["short_code"]
        view = link_view(item, config.short_url(code), now)
        stats_item = repository.get_link(
            client, config.table_name, stats_key(code), consistent=True
        )
        view["stats"] = stats.link_stats(stats_item, item)
        entries = repository.history_entries(
            client, config.table_name, code, int(item.get(VERSION, 1))
        )
        view["history"] = [history.entry_view(entry) for entry in entries]
        links.append(view)
    return {
        "exported_at": iso_utc(now),
        "user": user,
        "links": links,
        "tokens": [record.view() for record in tokens.list(user["user_id"])],
    }


def erase(
    client: Any,
    config: Settings,
    tokens: TokenStore,
    *,
    owner_id: str,
    remove_user: Callable[[str], bool],
    now: float,
) -> dict[str, int | bool]:
    """Delete every link of the owner as DELETE /urls/{code} does (tombstones, statistics
    gone, history kept as the record of the deletion), revoke every token, remove the user."""
    codes = [item["short_code"] for item in owned_items(client, config, owner_id)]
    deleted = 0
    for code in codes:
        try:
            service.delete_link(client, config, code, owner_id=owner_id, if_match=None, now=now)
            deleted += 1
        except NotFound:
            continue  # deleted meanwhile
    revoked = tokens.revoke_all(owner_id, now)
    return {
        "links_deleted": deleted,
        "tokens_revoked": revoked,
        "user_removed": remove_user(owner_id),
    }

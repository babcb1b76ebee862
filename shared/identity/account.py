"""The account routes' domain (docs/api.md section 8): token requests, the export of
everything an owner has (GDPR access) and its erasure (GDPR erasure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from shared.clicks import stats
from shared.contracts.auth import SCOPES
from shared.contracts.link_state import iso_utc
from shared.contracts.table import PARTITION_KEY, VERSION, history_key, stats_key
from shared.identity.schemas import CreateTokenRequest
from shared.identity.tokens import MAX_EXPIRES_IN_DAYS, NAME_MAX, TokenStore
from shared.imports import jobs
from shared.links import history, repository, service
from shared.links.errors import InternalServerError, ValidationError
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


def check_parent_expiry(parent_expires_at: int, expires_in_days: int, now: float) -> int:
    """A token may only mint a token that expires no later than itself: a short-lived token
    must not outlive its own revocation or expiry through a long-lived child. The days asked
    may round the parent's remaining time up to whole days (a 30-day parent asked a second
    later for 30 days is not refused); the child's expiry is then the parent's, never later.
    Returns the child's expiry (epoch seconds)."""
    remaining = parent_expires_at - int(now)
    if expires_in_days > -(-remaining // 86400):
        raise ValidationError(
            "A token cannot create a token that expires after itself "
            f"(at most {max(0, remaining // 86400)} whole days from now).",
            field="expires_in_days",
            reason="expires_after_parent",
        )
    return min(int(now) + expires_in_days * 86400, parent_expires_at)


def may_revoke(caller_scopes: frozenset[str], target_scopes: tuple[str, ...]) -> bool:
    """A token may revoke only tokens whose scopes are a subset of its own."""
    return set(target_scopes) <= caller_scopes


def owned_items(client: Any, config: Settings, owner_id: str) -> Iterator[dict[str, Any]]:
    """Every link item of the owner, newest first, from the owner index."""
    return service.owned_items(client, config, owner_id)  # type: ignore[no-any-return]


def read_many(client: Any, table_name: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The items of these keys that exist, by key: BatchGetItem, 100 keys a call, consistent,
    unprocessed keys asked again with a short backoff."""
    found: dict[str, dict[str, Any]] = {}
    for first in range(0, len(keys), repository.MAX_BATCH_GET):
        batch = [{PARTITION_KEY: {"S": k}} for k in keys[first : first + repository.MAX_BATCH_GET]]
        for attempt in range(repository.MAX_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(repository.BATCH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = client.batch_get_item(
                RequestItems={table_name: {"Keys": batch, "ConsistentRead": True}}
            )
            for item in response.get("Responses", {}).get(table_name, []):
                values = repository.from_item(item)
                found[values[PARTITION_KEY]] = values
            batch = response.get("UnprocessedKeys", {}).get(table_name, {}).get("Keys", [])
            if not batch:
                break
        else:
            raise InternalServerError("The export could not be read in full; try again.")
    return found


def _history_keys(item: dict[str, Any]) -> list[str]:
    code = item["short_code"]
    return [history_key(code, n) for n in range(1, int(item.get(VERSION, 1)) + 1)]


def export(
    client: Any,
    config: Settings,
    tokens: TokenStore,
    *,
    user: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    """One JSON document: the user, every link with its stats and history, every token
    (never a secret or hash), every import job kept.

    The links come from the owner index (a Query per 100); their statistics and history
    entries are read together by BatchGetItem, 100 keys a call: about (links x (1 + versions))
    / 100 calls in all, instead of two calls per link."""
    items = list(owned_items(client, config, user["user_id"]))
    wanted = [stats_key(item["short_code"]) for item in items]
    wanted += [key for item in items for key in _history_keys(item)]
    found = read_many(client, config.table_name, wanted)
    links = []
    for item in items:
        code = item["short_code"]
        view = link_view(item, config.short_url(code), now)
        view["stats"] = stats.link_stats(found.get(stats_key(code)), item)
        entries = [found[key] for key in _history_keys(item) if key in found]
        view["history"] = [history.entry_view(entry) for entry in entries]
        links.append(view)
    return {
        "exported_at": iso_utc(now),
        "user": user,
        "links": links,
        "tokens": [record.view() for record in tokens.list(user["user_id"])],
        "imports": [
            jobs.job_view(jobs.job_id_of(job), job)
            for job in jobs.owner_jobs(client, config.table_name, user["user_id"])
        ],
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
    """Stop the owner's import jobs, delete every link of the owner as DELETE /urls/{code}
    does (tombstones, statistics gone, history kept as the record of the deletion), revoke
    every token, remove the user."""
    # The owner's import jobs stop first: no upload is accepted and no chunk commits after
    # this (docs/imports.md), so the links listed next are all an import will ever create.
    stopped = 0
    for job in jobs.owner_jobs(client, config.table_name, owner_id):
        # A failed job could be resumed, so every job not done is stopped.
        if job[jobs.STATUS] != jobs.DONE and not job.get(jobs.ERASED):
            stopped += jobs.erase_job(client, config.table_name, jobs.job_id_of(job), now=now)
    deleted = service.delete_owned_links(client, config, owner_id, now)
    revoked = tokens.revoke_all(owner_id, now)
    return {
        "imports_stopped": stopped,
        "links_deleted": deleted,
        "tokens_revoked": revoked,
        "user_removed": remove_user(owner_id),
    }

"""`GET /urls`: its query parameters, the opaque cursor and the filters (docs/api.md section 7).

A cursor names a position in the owner index: the creation time and code of the last link a
page showed (or the last one a page read, when filters left nothing to show). The owner is never
in it: the caller's own owner id is, so a cursor can only ever move within the caller's links.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from shared.contracts.codes import is_possible_code
from shared.contracts.link_state import ACTIVE, DISABLED, EXPIRED, LISTED_STATES
from shared.contracts.table import OWNER_INDEX_SORT_KEY, PARTITION_KEY, TTL_ATTRIBUTE
from shared.links.errors import ValidationError
from shared.links.models import TAG

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200
PARAMETERS = ("limit", "cursor", "status", "tag")
_CREATED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT
    # The owner-index position to go on after: {created_at, short_code}, or None for the start.
    after: dict[str, str] | None = None
    state: str | None = None
    tag: str | None = None

    @property
    def filtered(self) -> bool:
        return self.state is not None or self.tag is not None


def parse_list_query(params: dict[str, list[str]] | None) -> ListQuery:
    """The query string (API Gateway's multi-value form) as a ListQuery, or the spec's 400."""
    values: dict[str, str] = {}
    for name, given in (params or {}).items():
        if name not in PARAMETERS:
            raise ValidationError(
                f"Unknown query parameter {name!r}; use {', '.join(PARAMETERS)}.",
                field=name,
                reason="unknown_field",
            )
        if len(given) != 1:
            raise ValidationError(
                f"The query parameter {name!r} appears more than once.",
                field=name,
                reason="duplicate_field",
            )
        values[name] = given[0]
    return ListQuery(
        limit=_limit(values.get("limit")),
        after=decode_cursor(values["cursor"]) if "cursor" in values else None,
        state=_state(values.get("status")),
        tag=_tag(values.get("tag")),
    )


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_LIMIT}.", field="limit", reason="out_of_range"
        )
    return int(text)


def _state(text: str | None) -> str | None:
    if text is not None and text not in LISTED_STATES:
        raise ValidationError(
            "status must be active, disabled or expired.", field="status", reason="not_allowed"
        )
    return text


def _tag(text: str | None) -> str | None:
    if text is not None and TAG.fullmatch(text) is None:
        raise ValidationError(
            "tag must be 1-32 characters of a-z, 0-9 and -.", field="tag", reason="format"
        )
    return text


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(
        {"t": position[OWNER_INDEX_SORT_KEY], "c": position[PARTITION_KEY]}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, str]:
    """A cursor from encode_cursor, checked field by field; anything else is a 400."""
    try:
        if not 0 < len(text) <= MAX_CURSOR_LENGTH or not text.isascii():
            raise ValueError("length")
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        created_at, code = data["t"], data["c"]
        if set(data) != {"t", "c"} or not isinstance(created_at, str) or not isinstance(code, str):
            raise ValueError("shape")
        if _CREATED_AT.fullmatch(created_at) is None or not is_possible_code(code):
            raise ValueError("values")
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise ValidationError(
            "cursor is not one this API gave out; start again without it.",
            field="cursor",
            reason="invalid",
        ) from None
    return {OWNER_INDEX_SORT_KEY: created_at, PARTITION_KEY: code}


def filters(query: ListQuery, now: float) -> tuple[str, dict[str, str], dict[str, Any]] | None:
    """The Query's FilterExpression for the asked state and tag, or None for none.

    The state follows shared.contracts.link_state: disabled wins, then a passed expiry.
    """
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if query.state is not None:
        names["#status"] = "status"
        values[":disabled"] = {"S": DISABLED}
        if query.state == DISABLED:
            clauses.append("#status = :disabled")
        else:
            names["#expires"] = TTL_ATTRIBUTE
            values[":now"] = {"N": str(int(now))}
            if query.state == ACTIVE:
                clauses.append(
                    "#status <> :disabled AND (attribute_not_exists(#expires) OR #expires > :now)"
                )
            elif query.state == EXPIRED:
                clauses.append("#status <> :disabled AND #expires <= :now")
    if query.tag is not None:
        names["#tags"] = "tags"
        values[":tag"] = {"S": query.tag}
        clauses.append("contains(#tags, :tag)")
    if not clauses:
        return None
    return " AND ".join(f"({clause})" for clause in clauses), names, values

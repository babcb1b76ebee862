"""The redirect's answer to a short code: what docs/api.md section 2 says `GET /{code}` returns.

Both redirect paths (regional and edge) answer through shared.redirect.core.Redirector, which
reads one item with a projected, eventually consistent GetItem (fetch_link) and turns it into
status, headers and body here. This module is the hot path: standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.contracts.http import (
    DEFAULT_REDIRECT_STATUS,
    MAX_PERMANENT_AGE,
    MAX_TEMPORARY_SHARED_AGE,
    PERMANENT_REDIRECTS,
)
from shared.contracts.link_state import ACTIVE, DELETED, DISABLED, link_state
from shared.contracts.table import PARTITION_KEY, REDIRECT_PROJECTION

MISSING_CACHE_CONTROL = "public, max-age=60"

_PROJECTION = ", ".join(f"#{name}" for name in REDIRECT_PROJECTION)
_PROJECTION_NAMES = {f"#{name}": name for name in REDIRECT_PROJECTION}


@dataclass(frozen=True)
class Link:
    """The part of a link the redirect needs."""

    original_url: str
    redirect_type: int
    status: str
    expires_at: int | None


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400


def fetch_link(client: Any, table_name: str, code: str) -> Link | None:
    """One GetItem on the local replica (or DAX, which has the same interface)."""
    response = client.get_item(
        TableName=table_name,
        Key={PARTITION_KEY: {"S": code}},
        ProjectionExpression=_PROJECTION,
        ExpressionAttributeNames=_PROJECTION_NAMES,
        ConsistentRead=False,
    )
    item = response.get("Item")
    if item is None:
        return None
    return link_from_item(item)


def link_from_item(item: dict[str, Any]) -> Link:
    status = item.get("status", {}).get("S", ACTIVE)
    if status == DELETED:
        # A tombstone keeps no URL and no expiry: it only holds the code and answers 410.
        return Link(
            original_url="", redirect_type=DEFAULT_REDIRECT_STATUS, status=DELETED, expires_at=None
        )
    expires = item.get("expires_at")
    return Link(
        original_url=item["original_url"]["S"],
        redirect_type=int(item.get("redirect_type", {}).get("N", str(DEFAULT_REDIRECT_STATUS))),
        status=status,
        expires_at=int(expires["N"]) if expires else None,
    )


def answer(code: str, link: Link | None, now: float, accept: str | None) -> Answer:
    """The response docs/api.md section 2 gives for `GET /{code}` when the table holds `link`."""
    if link is None:
        return not_found(accept)
    state = link_state(link.status, link.expires_at, now)
    if state != ACTIVE:
        return gone(accept, state=state)
    remaining = None if link.expires_at is None else max(0, int(link.expires_at - now))
    if link.redirect_type in PERMANENT_REDIRECTS:
        age = MAX_PERMANENT_AGE if remaining is None else min(MAX_PERMANENT_AGE, remaining)
        cache_control = f"public, max-age={age}"
    else:
        shared = (
            MAX_TEMPORARY_SHARED_AGE
            if remaining is None
            else min(MAX_TEMPORARY_SHARED_AGE, remaining)
        )
        cache_control = f"public, max-age=0, s-maxage={shared}"
    return Answer(
        status=link.redirect_type,
        headers={
            "Location": link.original_url,
            "Cache-Control": cache_control,
            "X-Short-Code": code,
        },
    )


def not_found(accept: str | None) -> Answer:
    return _error_page(
        404,
        "NotFound",
        "No link has this short code.",
        "Link not found",
        "There is no link at this address. Check the address for typos.",
        accept,
    )


_GONE_MESSAGES = {
    DISABLED: "This link was disabled.",
    DELETED: "This link was deleted.",
}


def gone(accept: str | None, *, state: str) -> Answer:
    """410 for a link that is disabled, deleted or (any other state) expired."""
    message = _GONE_MESSAGES.get(state, "This link has expired.")
    return _error_page(410, "Gone", message, "Link no longer available", message, accept)


def prefers_html(accept: str | None) -> bool:
    """True when the Accept header ranks text/html above JSON (a browser, not curl's `*/*`)."""
    if not accept:
        return False
    html = _quality(accept, "text", "html")
    json_q = _quality(accept, "application", "json")
    return html > json_q


def _quality(accept: str, main: str, sub: str) -> float:
    """The q of the most specific range in `accept` that matches main/sub (0 when none does)."""
    best_specificity, best_q = -1, 0.0
    for part in accept.split(","):
        media, *params = part.strip().split(";")
        range_main, _, range_sub = media.strip().lower().partition("/")
        if range_main == main and range_sub == sub:
            specificity = 2
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif range_main == "*" and range_sub == "*":
            specificity = 0
        else:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if specificity > best_specificity:
            best_specificity, best_q = specificity, q
    return best_q


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title} ({status})</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;
padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p{{color:#555}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""


def _error_page(
    status: int, error: str, message: str, title: str, text: str, accept: str | None
) -> Answer:
    headers = {"Cache-Control": MISSING_CACHE_CONTROL, "Vary": "Accept"}
    if prefers_html(accept):
        headers["Content-Type"] = "text/html; charset=utf-8"
        body = _PAGE.format(status=status, title=title, text=text)
    else:
        headers["Content-Type"] = "application/json"
        body = json.dumps({"error": error, "message": message, "details": None})
    return Answer(status=status, headers=headers, body=body)

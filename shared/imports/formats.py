"""Each supported export format, mapped onto squrl's create body (docs/imports.md).

A format names, for each field squrl imports, the column headers that may carry it (compared
without case, spaces, `_` and `-`). A peer's short code becomes the custom code when it fits
squrl's custom-code rules (docs/api.md section 4); otherwise the link gets a generated code.
Every row is then validated exactly as `POST /urls` validates a body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO
from urllib.parse import urlsplit

from shared.imports.records import records
from shared.links.codes import custom_code_problem
from shared.links.errors import PayloadTooLarge, SqurlError, ValidationError
from shared.links.models import (
    MAX_BODY_BYTES,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    MAX_TTL_HOURS,
    CreateLinkRequest,
    parse_create_request,
)
from shared.links.urls import UrlPolicy, normalize_url

FORMATS = ("csv", "bitly", "yourls", "kutt", "shlink", "dub")
# squrl's own CSV: the create body's fields, one column each.
SQURL_COLUMNS = ("original_url", "custom_code", "title", "tags", "ttl_hours", "redirect_type")

_TAG_SEPARATORS = re.compile(r"[|,;]")
_NOT_TAG = re.compile(r"[^a-z0-9]+")


def header_key(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name).lower()


@dataclass(frozen=True)
class Format:
    """Which header carries each field, and how a peer's values are read."""

    name: str
    url: tuple[str, ...]
    code: tuple[str, ...] = ()
    short_link: tuple[str, ...] = ()  # a full short URL whose last path segment is the code
    title: tuple[str, ...] = ("title",)
    tags: tuple[str, ...] = ("tags",)
    expires: tuple[str, ...] = ()  # an ISO 8601 time or epoch seconds
    # squrl's own format only: fields passed through as given (strict, no coercion of codes).
    strict: bool = False
    extra: tuple[str, ...] = field(default=())


FORMAT_SPECS: dict[str, Format] = {
    "csv": Format(
        "csv",
        url=("original_url",),
        code=("custom_code",),
        strict=True,
        extra=("ttl_hours", "redirect_type"),
    ),
    # Bitly's CSV export of the Links page.
    "bitly": Format(
        "bitly",
        url=("long_url", "long url", "destination url", "destination"),
        code=("custom_bitlink", "custom back-half"),
        short_link=("link", "bitlink", "short link", "short_url"),
    ),
    # YOURLS' `yourls_url` table as exported by its admin (or an export plugin).
    "yourls": Format("yourls", url=("url", "long url"), code=("keyword",)),
    # Kutt's `links` table (`\copy links to ... csv header`), or its API's fields.
    "kutt": Format(
        "kutt",
        url=("target",),
        code=("address",),
        short_link=("link", "short link"),
        title=("description", "title"),
        expires=("expire_in",),
    ),
    # The Shlink web client's "Export" CSV (tags joined with `|`).
    "shlink": Format(
        "shlink",
        url=("longUrl", "long url"),
        code=("shortCode", "short code"),
        short_link=("shortUrl", "short url"),
        expires=("validUntil", "valid until"),
    ),
    # Dub's links export CSV (raw field names or the dashboard's column labels).
    "dub": Format(
        "dub",
        url=("url", "destination url"),
        code=("key",),
        short_link=("shortLink", "short link", "link"),
        expires=("expiresAt", "expires at"),
    ),
}


class HeaderError(ValueError):
    """The file's header lacks a column the format needs: the whole job fails."""


@dataclass(frozen=True)
class Columns:
    """Where each field sits in a row of this file."""

    url: int
    code: int | None
    short_link: int | None
    title: int | None
    tags: int | None
    expires: int | None
    extra: Mapping[str, int]


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    wanted = {header_key(n) for n in names}
    for index, name in enumerate(header):
        if header_key(name) in wanted:
            return index
    return None


def columns(fmt: Format, header: Sequence[str]) -> Columns:
    url = _find(header, fmt.url)
    if url is None:
        raise HeaderError(f"The header has no {fmt.url[0]!r} column, which {fmt.name} needs.")
    return Columns(
        url=url,
        code=_find(header, fmt.code) if fmt.code else None,
        short_link=_find(header, fmt.short_link) if fmt.short_link else None,
        title=_find(header, fmt.title),
        tags=_find(header, fmt.tags),
        expires=_find(header, fmt.expires) if fmt.expires else None,
        extra={name: index for name in fmt.extra if (index := _find(header, (name,))) is not None},
    )


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]


def _peer_code(row: Sequence[str], cols: Columns) -> str | None:
    """The peer's short code, if it is also a valid squrl custom code."""
    candidates = [_cell(row, cols.code).strip()]
    link = _cell(row, cols.short_link).strip()
    if link:
        candidates.append(urlsplit(link if "//" in link else f"//{link}").path.rstrip("/"))
    for candidate in candidates:
        code = candidate.rsplit("/", 1)[-1]
        if code and custom_code_problem(code) is None:
            return code
    return None


def _peer_tags(text: str) -> list[str]:
    """A peer's tags as squrl tags: lower case, runs of other characters as `-`, at most ten."""
    tags: list[str] = []
    for raw in _TAG_SEPARATORS.split(text):
        tag = _NOT_TAG.sub("-", raw.strip().lower()).strip("-")[:32].strip("-")
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ttl_from_expiry(text: str, now: float) -> int | None:
    """Hours from now until a peer's expiry, rounded up; None when it has none."""
    value = text.strip()
    if not value or value.lower() in ("null", "none", "never"):
        return None
    try:
        moment = (
            float(value)
            if re.fullmatch(r"\d+(\.\d+)?", value)
            else _utc(datetime.fromisoformat(value.replace("Z", "+00:00"))).timestamp()
        )
    except ValueError:
        raise ValidationError(
            "The expiry is neither an ISO 8601 time nor epoch seconds.",
            field="expires_at",
            reason="format",
        ) from None
    if moment > 1e11:  # milliseconds
        moment /= 1000
    if moment <= now:
        raise ValidationError("The link has already expired.", field="expires_at", reason="expired")
    return min(MAX_TTL_HOURS, math.ceil((moment - now) / 3600))


def _integer(text: str, name: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if re.fullmatch(r"-?\d{1,9}", value) is None:
        raise ValidationError(f"{name} must be an integer.", field=name, reason="type")
    return int(value)


def _squrl_body(row: Sequence[str], cols: Columns) -> dict[str, object]:
    body: dict[str, object] = {"original_url": _cell(row, cols.url)}
    code = _cell(row, cols.code)
    if code:
        body["custom_code"] = code
    title = _cell(row, cols.title)
    if title:
        body["title"] = title
    tags = [t for t in re.split(r"[\s|;,]+", _cell(row, cols.tags)) if t]
    if tags:
        body["tags"] = tags
    for name in ("ttl_hours", "redirect_type"):
        value = _integer(_cell(row, cols.extra.get(name)), name)
        if value is not None:
            body[name] = value
    return body


def _peer_body(row: Sequence[str], cols: Columns, now: float) -> dict[str, object]:
    body: dict[str, object] = {"original_url": _cell(row, cols.url)}
    code = _peer_code(row, cols)
    if code is not None:
        body["custom_code"] = code
    title = _cell(row, cols.title).strip()
    if title and title.lower() != "null":
        body["title"] = title[:MAX_TITLE_LENGTH]
    tags = _peer_tags(_cell(row, cols.tags))
    if tags:
        body["tags"] = tags
    ttl = _ttl_from_expiry(_cell(row, cols.expires), now)
    if ttl is not None:
        body["ttl_hours"] = ttl
    return body


def create_body(fmt: Format, row: Sequence[str], cols: Columns, now: float) -> dict[str, object]:
    """The `POST /urls` body this row stands for (not yet validated)."""
    return _squrl_body(row, cols) if fmt.strict else _peer_body(row, cols, now)


def create_request(fmt: Format, row: Sequence[str], cols: Columns, now: float) -> CreateLinkRequest:
    """The row as a validated create request; raises the spec's error for a bad row."""
    body = create_body(fmt, row, cols, now)
    try:
        return parse_create_request(json.dumps(body).encode("utf-8"))
    except PayloadTooLarge:
        # A row is one link: its limit is POST /urls's body limit (8 KiB as squrl's JSON),
        # reported as the row's ValidationError like every other bad row (docs/imports.md).
        raise ValidationError(
            f"The row's link is over {MAX_BODY_BYTES // 1024} KiB as JSON.", reason="too_long"
        ) from None


def error_entry(line: int, error: SqurlError) -> dict[str, object]:
    """One entry of a job's `errors`: the line, the spec's error code and its reason."""
    details = error.details or {}
    entry: dict[str, object] = {"line": line, "error": error.code}
    if "reason" in details:
        entry["reason"] = str(details["reason"])
    if "field" in details:
        entry["field"] = str(details["field"])
    return entry


def parse_file(
    fmt_name: str, source: BinaryIO, now: float, policy: UrlPolicy | None = None
) -> Iterator[tuple[int, CreateLinkRequest | SqurlError]]:
    """Every data row of an export as (line, validated request or the spec's error), streamed.

    What a job checks in each row before storing it (with `policy`, the URL rules of docs/api.md
    section 3 too); nothing here touches the table."""
    fmt = FORMAT_SPECS[fmt_name]
    rows = records(source)
    first = next(rows, None)
    cols = columns(fmt, (first.fields or []) if first is not None else [])
    for record in rows:
        if record.fields is None:
            reason = record.error.reason if record.error else "csv"
            yield record.line, ValidationError(str(record.error), reason=reason)
            continue
        try:
            request = create_request(fmt, record.fields, cols, now)
            if policy is not None:
                normalize_url(request.original_url, policy)
            yield record.line, request
        except SqurlError as error:
            yield record.line, error

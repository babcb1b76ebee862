"""Request bodies (create, update), the headers that steer them and the link as the API shows it.

pydantic v2 checks types and bounds; every problem becomes the spec's ValidationError with a
`details.reason`, never a crash.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from shared.contracts.http import DEFAULT_REDIRECT_STATUS, REDIRECT_STATUSES
from shared.contracts.link_state import iso_utc, link_state
from shared.contracts.table import VERSION
from shared.links.codes import custom_code_problem
from shared.links.errors import PayloadTooLarge, ValidationError

MAX_BODY_BYTES = 8 * 1024
# POST /urls/bulk: 1..100 create bodies, each within the single-create limit when encoded on
# its own; the whole body within 1 MiB, which 100 bodies at that limit fit
# (docs/developer-surface.md).
MAX_BULK_ITEMS = 100
MAX_BULK_BODY_BYTES = 1024 * 1024
PAYLOAD_TOO_LARGE_MESSAGES = {
    MAX_BULK_BODY_BYTES: "The request body is larger than 1 MiB.",
}
MAX_TTL_HOURS = 87600
REDIRECT_TYPES = REDIRECT_STATUSES
MAX_TITLE_LENGTH = 200
MAX_TAGS = 10
TAG = re.compile(r"[a-z0-9-]{1,32}")


def _allowed_redirect(value: int) -> int:
    # A check on the integer itself: a Literal would also admit 301.0, which equals 301.
    if value not in REDIRECT_TYPES:
        raise ValueError("not an allowed redirect type")
    return value


RedirectType = Annotated[StrictInt, AfterValidator(_allowed_redirect)]


def _tag(value: str) -> str:
    if TAG.fullmatch(value) is None:
        raise ValueError("not a tag")
    return value


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


# pydantic refuses strings holding lone surrogates (`"\ud800"` in JSON), which no UTF-8 store
# can hold, as `string_unicode`.
Title = Annotated[StrictStr, Field(max_length=MAX_TITLE_LENGTH)]
Tag = Annotated[StrictStr, AfterValidator(_tag)]
# At most ten as sent; stored sorted and without repeats.
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_sorted_unique)]


class CreateLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    original_url: StrictStr
    custom_code: StrictStr | None = None
    ttl_hours: StrictInt | None = Field(default=None, ge=1, le=MAX_TTL_HOURS)
    redirect_type: RedirectType = DEFAULT_REDIRECT_STATUS
    title: Title | None = None
    tags: Tags = Field(default_factory=list)


class UpdateLinkRequest(BaseModel):
    """A PATCH body: which fields it names is `model_fields_set`; null is meaningful only for
    `expires_at` (never expire) and `title` (no title)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    original_url: StrictStr | None = None
    redirect_type: RedirectType | None = None
    ttl_hours: StrictInt | None = Field(default=None, ge=1, le=MAX_TTL_HOURS)
    expires_at: StrictStr | None = None
    status: Literal["active", "disabled"] | None = None
    title: Title | None = None
    tags: Tags | None = None


# Fields whose null is a value, not a missing one.
_NULLABLE = frozenset({"title", "expires_at"})

_FIELD_RULES = {
    "original_url": "original_url must be a string.",
    "custom_code": "custom_code must be a string of 3-20 characters from A-Z, a-z, 0-9, _ and -.",
    "ttl_hours": f"ttl_hours must be an integer from 1 to {MAX_TTL_HOURS}.",
    "redirect_type": "redirect_type must be one of 301, 302, 307 or 308.",
    "title": f"title must be a string of at most {MAX_TITLE_LENGTH} characters, or null.",
    "tags": f"tags must be a list of at most {MAX_TAGS} tags, each 1-32 characters of a-z, 0-9 "
    "and -.",
    "expires_at": "expires_at must be an ISO 8601 UTC time like 2030-01-31T12:00:00Z, or null.",
    "status": "status must be active or disabled.",
    "items": f"items must be a list of 1 to {MAX_BULK_ITEMS} create bodies.",
}


def parse_create_request(body: bytes) -> CreateLinkRequest:
    """Parse a create body, raising the spec's error for the first problem found."""
    data = json_object(body)
    _refuse_nulls(data, CreateLinkRequest)
    try:
        request = CreateLinkRequest.model_validate(data)
    except PydanticValidationError as exc:
        raise _first_problem(exc) from None
    if request.custom_code is not None:
        _check_custom_code(request.custom_code)
    return request


class BulkCreateRequest(BaseModel):
    """POST /urls/bulk. Only the envelope is checked here: each item is a create body of its
    own (parse_create_request), whose problems are that item's result, not the request's."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


def parse_bulk_request(body: bytes) -> list[Any]:
    """The items of a bulk body (1..100 of anything: each is checked on its own later)."""
    data = json_object(body, MAX_BULK_BODY_BYTES)
    items = data.get("items")
    if isinstance(items, list) and not 1 <= len(items) <= MAX_BULK_ITEMS:
        raise ValidationError(_FIELD_RULES["items"], field="items", reason="out_of_range")
    # A non-object item is that item's problem, not the request's.
    envelope = {**data, "items": [{} for _ in items]} if isinstance(items, list) else data
    try:
        BulkCreateRequest.model_validate(envelope)
    except PydanticValidationError as exc:
        raise _first_problem(exc) from None
    assert isinstance(items, list)  # the model accepted it
    return items


def item_body(item: Any) -> bytes:
    """One bulk item as the body a single create would have sent."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_update_request(body: bytes) -> UpdateLinkRequest:
    """Parse a PATCH body: a non-empty subset of the changeable fields, ttl_hours or expires_at."""
    data = json_object(body)
    if not data:
        raise ValidationError("The body names no field to change.", reason="empty")
    _refuse_nulls(data, UpdateLinkRequest)
    try:
        request = UpdateLinkRequest.model_validate(data)
    except PydanticValidationError as exc:
        raise _first_problem(exc) from None
    if {"ttl_hours", "expires_at"} <= request.model_fields_set:
        raise ValidationError(
            "Give ttl_hours or expires_at, not both.", field="expires_at", reason="exclusive"
        )
    if request.expires_at is not None:
        parse_utc_time(request.expires_at)
    return request


def _refuse_nulls(data: dict[str, Any], model: type[BaseModel]) -> None:
    for field, value in data.items():
        # An optional field is given or left out; null would silently mean "the default".
        if value is None and field in model.model_fields and field not in _NULLABLE:
            raise ValidationError(
                _FIELD_RULES.get(field, f"{field} may not be null."), field=field, reason="type"
            )


_UTC_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|\+00:00)"
)


def parse_utc_time(text: str) -> int:
    """An ISO 8601 UTC time (`Z` or `+00:00`, optional fraction, dropped) as epoch seconds."""
    match = _UTC_TIME.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise ValidationError(
            _FIELD_RULES["expires_at"], field="expires_at", reason="format"
        ) from None
    return int(moment.timestamp())


def json_object(body: bytes, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A request body as a JSON object: at most `limit` bytes (8 KiB), valid JSON, no repeated
    keys."""
    if len(body) > limit:
        raise PayloadTooLarge(PAYLOAD_TOO_LARGE_MESSAGES.get(limit))
    try:
        data = json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as duplicate:
        raise ValidationError(
            f"The field {duplicate.key!r} appears more than once.",
            field=duplicate.key,
            reason="duplicate_field",
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body is not valid JSON.", reason="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.", reason="not_an_object")
    return data


def _check_custom_code(code: str) -> None:
    problem = custom_code_problem(code)
    if problem == "format":
        raise ValidationError(_FIELD_RULES["custom_code"], field="custom_code", reason="format")
    if problem == "reserved":
        raise ValidationError(
            f"The custom code {code!r} is reserved.", field="custom_code", reason="reserved"
        )


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON allows repeated keys and keeps the last; a request that repeats one is ambiguous."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _first_problem(exc: PydanticValidationError) -> ValidationError:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else None
    kind = error["type"]
    if kind == "extra_forbidden":
        return ValidationError(f"Unknown field {field!r}.", field=field, reason="unknown_field")
    if kind == "missing":
        return ValidationError(f"{field} is required.", field=field, reason="required")
    # docs/api.md section 4 makes any malformed custom code `format`, a number included. Elsewhere a
    # value of the wrong JSON type is `type`, and one of the right type that the field's rule
    # refuses is `not_allowed` (redirect_type, status), `out_of_range` (ttl_hours), `too_long`
    # (title), `too_many` (tags) or `format` (a tag's spelling, text that is not valid Unicode).
    wrong_type = kind.endswith("_type") or (
        kind == "literal_error" and not isinstance(error.get("input"), str)
    )
    return ValidationError(
        _FIELD_RULES.get(field or "", "Invalid field."),
        field=field,
        reason=_reason(field, kind, wrong_type),
    )


def _reason(field: str | None, kind: str, wrong_type: bool) -> str:
    if field == "custom_code":
        return "format"
    if wrong_type:
        return "type"
    if field in ("redirect_type", "status"):
        return "not_allowed"
    if kind in ("greater_than_equal", "less_than_equal"):
        return "out_of_range"
    if kind == "string_too_long":
        return "too_long"
    if kind == "too_long":
        return "too_many"
    if kind in ("value_error", "string_unicode"):
        return "format"
    return "type"


# Headers ---------------------------------------------------------------------------------------

ANY_VERSION = -1
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts: None when absent, {ANY_VERSION} for `*`.

    Strong comparison (RFC 9110 13.1.1): a weak tag (`W/"3"`) matches nothing.
    """
    if value is None:
        return None
    text = value.strip()
    if text == "*":
        return frozenset({ANY_VERSION})
    versions = set()
    for part in text.split(","):
        match = _ENTITY_TAG.fullmatch(part.strip())
        if match is None:
            raise ValidationError(
                'If-Match must list entity tags like "3" (the link\'s ETag), or be *.',
                field="If-Match",
                reason="format",
            )
        weak, opaque = match.groups()
        if not weak and opaque.isascii() and opaque.isdigit():
            versions.add(int(opaque))
    return frozenset(versions)


def matches(accepted: frozenset[int] | None, version: int) -> bool:
    return accepted is None or ANY_VERSION in accepted or version in accepted


# Responses -------------------------------------------------------------------------------------


def link_view(item: dict[str, Any], short_url: str, now: float) -> dict[str, Any]:
    """The link as every route shows it (docs/api.md sections 2 and 7), from a stored item
    (deserialized to Python values). Items stored before section 7 lack its attributes and
    show the defaults: no title, no tags, updated when created, version 1."""
    expires = item.get("expires_at")
    return {
        "short_code": item["short_code"],
        "original_url": item["original_url"],
        "short_url": short_url,
        "created_at": item["created_at"],
        "expires_at": iso_utc(int(expires)) if expires is not None else None,
        "redirect_type": int(item.get("redirect_type", DEFAULT_REDIRECT_STATUS)),
        "status": link_state(item.get("status"), expires, now),
        "click_count": int(item.get("click_count", 0)),
        "title": item.get("title"),
        "tags": list(item.get("tags") or []),
        "updated_at": item.get("updated_at") or item["created_at"],
        "version": int(item.get(VERSION, 1)),
    }

"""The create request and the link as the API shows it (pydantic v2)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from shared.contracts.http import DEFAULT_REDIRECT_STATUS, REDIRECT_STATUSES
from shared.contracts.link_state import iso_utc
from shared.links.codes import custom_code_problem
from shared.links.errors import PayloadTooLarge, ValidationError

MAX_BODY_BYTES = 8 * 1024
MAX_TTL_HOURS = 87600
REDIRECT_TYPES = REDIRECT_STATUSES


def _allowed_redirect(value: int) -> int:
    # A check on the integer itself: a Literal would also admit 301.0, which equals 301.
    if value not in REDIRECT_TYPES:
        raise ValueError("not an allowed redirect type")
    return value


RedirectType = Annotated[StrictInt, AfterValidator(_allowed_redirect)]


class CreateLinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    original_url: StrictStr
    custom_code: StrictStr | None = None
    ttl_hours: StrictInt | None = Field(default=None, ge=1, le=MAX_TTL_HOURS)
    redirect_type: RedirectType = DEFAULT_REDIRECT_STATUS


_FIELD_RULES = {
    "original_url": "original_url must be a string.",
    "custom_code": "custom_code must be a string of 3-20 characters from A-Z, a-z, 0-9, _ and -.",
    "ttl_hours": f"ttl_hours must be an integer from 1 to {MAX_TTL_HOURS}.",
    "redirect_type": "redirect_type must be one of 301, 302, 307 or 308.",
}


def parse_create_request(body: bytes) -> CreateLinkRequest:
    """Parse a create body, raising the spec's error for the first problem found."""
    data = json_object(body)
    for field, value in data.items():
        # An optional field is given or left out; null would silently mean "the default".
        if value is None and field in CreateLinkRequest.model_fields:
            raise ValidationError(
                _FIELD_RULES.get(field, f"{field} may not be null."), field=field, reason="type"
            )
    try:
        request = CreateLinkRequest.model_validate(data)
    except PydanticValidationError as exc:
        raise _first_problem(exc) from None
    if request.custom_code is not None:
        _check_custom_code(request.custom_code)
    return request


def json_object(body: bytes) -> dict[str, Any]:
    """A request body as a JSON object: at most 8 KiB, valid JSON, no repeated keys."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
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
    # refuses is `not_allowed` (redirect_type) or `out_of_range` (ttl_hours).
    if field == "custom_code":
        reason = "format"
    elif kind.endswith("_type"):
        reason = "type"
    elif field == "redirect_type":
        reason = "not_allowed"
    elif kind in ("greater_than_equal", "less_than_equal"):
        reason = "out_of_range"
    else:
        reason = "type"
    return ValidationError(
        _FIELD_RULES.get(field or "", "Invalid field."), field=field, reason=reason
    )


def link_view(item: dict[str, Any], short_url: str) -> dict[str, Any]:
    """The create response's fields for a stored item (deserialized to Python values)."""
    expires = item.get("expires_at")
    return {
        "short_code": item["short_code"],
        "original_url": item["original_url"],
        "short_url": short_url,
        "created_at": item["created_at"],
        "expires_at": iso_utc(int(expires)) if expires is not None else None,
        "redirect_type": int(item.get("redirect_type", DEFAULT_REDIRECT_STATUS)),
    }

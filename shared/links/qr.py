"""GET /urls/{code}/qr: the link's short URL as a QR code, SVG or PNG (docs/api.md section 9).

segno draws it: pure Python, no native code, in the get_url bundle only. The answer depends on
the short URL and the four parameters alone (a code's short URL never changes), so it carries a
strong ETag of its bytes and may be kept by the caller's browser (private: owner-only route).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic import ValidationError as PydanticValidationError

from shared.links.errors import ValidationError

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
ERROR_CORRECTION_LEVELS = ("L", "M", "Q", "H")
MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 1, 40, 8
# 4 modules is the quiet zone ISO/IEC 18004 asks for; less may not scan on every reader.
MIN_BORDER, MAX_BORDER, DEFAULT_BORDER = 0, 16, 4
CACHE_CONTROL = "private, max-age=86400"

_RULES = {
    "format": "format must be svg or png.",
    "scale": f"scale must be an integer from {MIN_SCALE} to {MAX_SCALE} (pixels per module).",
    "border": f"border must be an integer from {MIN_BORDER} to {MAX_BORDER} (modules).",
    "ecc": "ecc must be one of L, M, Q or H (error correction level).",
}


class QrQuery(BaseModel):
    """The query parameters of GET /urls/{code}/qr, all optional."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["svg", "png"] = Field(
        default="svg", description="svg (image/svg+xml) or png (image/png)."
    )
    scale: StrictInt = Field(
        default=DEFAULT_SCALE,
        ge=MIN_SCALE,
        le=MAX_SCALE,
        description="Size of one module: pixels in PNG, user units in SVG.",
    )
    border: StrictInt = Field(
        default=DEFAULT_BORDER,
        ge=MIN_BORDER,
        le=MAX_BORDER,
        description="Quiet zone around the code, in modules.",
    )
    ecc: Literal["L", "M", "Q", "H"] = Field(
        default="M", description="Error correction level: L 7 %, M 15 %, Q 25 %, H 30 %."
    )


def parse_qr_query(params: dict[str, list[str]] | None) -> QrQuery:
    """The query string (API Gateway's multi-value form) as a QrQuery, or a 400 naming the
    parameter."""
    values: dict[str, object] = {}
    for name, given in (params or {}).items():
        if name not in QrQuery.model_fields:
            raise ValidationError(
                f"Unknown query parameter {name!r}; use {', '.join(QrQuery.model_fields)}.",
                field=name,
                reason="unknown_field",
            )
        if len(given) != 1:
            raise ValidationError(
                f"The query parameter {name!r} appears more than once.",
                field=name,
                reason="duplicate_field",
            )
        text = given[0]
        values[name] = int(text) if text.isascii() and text.isdigit() and len(text) < 6 else text
    try:
        return QrQuery.model_validate(values)
    except PydanticValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        kind = exc.errors()[0]["type"]
        reason = "out_of_range" if kind in ("greater_than_equal", "less_than_equal") else "format"
        if kind == "int_type":
            reason = "type"
        elif kind == "literal_error":
            reason = "not_allowed"
        raise ValidationError(_RULES[field], field=field, reason=reason) from None


@dataclass(frozen=True)
class QrImage:
    content_type: str
    body: bytes
    etag: str


def qr_image(text: str, query: QrQuery) -> QrImage:
    import segno  # only this route needs it

    # boost_error off: the level asked is the level drawn, not a higher one that happens to fit.
    code = segno.make_qr(text, error=query.ecc, boost_error=False)
    out = io.BytesIO()
    code.save(out, kind=query.format, scale=query.scale, border=query.border)
    body = out.getvalue()
    return QrImage(
        content_type=FORMATS[query.format],
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison, `*` matches any."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags

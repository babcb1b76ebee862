"""The redirect at the edge: the shapes CloudFront's Lambda@Edge events use.

The answer (status, Location, Cache-Control, X-Short-Code, the 404/410 pages) is exactly the
regional handler's: both come from shared.redirect.core.Redirector, here with a short in-memory
cache of lookups. Two things make it safe in CloudFront's shared cache:

- Format. The 404/410 body follows Accept (HTML for browsers, JSON otherwise). A CloudFront
  Function on viewer request (functions/edge_format/edge_format.js) reduces Accept to
  `x-squrl-format: html|json`, the only header in the cache key, and the edge answers in the
  format that header names. Requests handed on to the regional API carry the canonical Accept of
  that format, so the origin's answer matches the cache key too.
- Age. An answer built from a lookup the function remembered for `a` seconds carries `Age: a`
  with its Cache-Control unchanged; HTTP caches subtract Age from max-age/s-maxage (RFC 9111
  section 4.2.3), which keeps a link's total staleness within the spec's lifetimes.

Standard library only, like the rest of shared.redirect.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from shared.contracts.http import (
    CANONICAL_ACCEPT,
    FORMAT_HEADER,
    HTML,
    JSON,
    ORIGIN_ROLE_HEADER,
    PRIMARY,
)
from shared.redirect.answer import Answer, prefers_html


def response_format(accept: str | None) -> str:
    """What the CloudFront Function puts in x-squrl-format for this Accept."""
    return HTML if prefers_html(accept) else JSON


# CloudFront's event shapes --------------------------------------------------------------------


def header(headers: Mapping[str, list[dict[str, str]]] | None, name: str) -> str | None:
    """The first value of a header in CloudFront's `{"lower-name": [{"key", "value"}]}` form."""
    values = (headers or {}).get(name.lower())
    return values[0].get("value") if values else None


def request_format(request: Mapping[str, Any]) -> str:
    """The format the cache key names; from Accept when the viewer function did not run."""
    headers = request.get("headers")
    value = header(headers, FORMAT_HEADER)
    if value in CANONICAL_ACCEPT:
        return value
    return response_format(header(headers, "accept"))


def for_origin(request: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The request handed on to the regional API, asking for the format of its cache key."""
    headers = request.setdefault("headers", {})
    headers["accept"] = [{"key": "Accept", "value": CANONICAL_ACCEPT[fmt]}]
    return request


def origin_role(request: Mapping[str, Any]) -> str:
    custom = (request.get("origin") or {}).get("custom") or {}
    return header(custom.get("customHeaders"), ORIGIN_ROLE_HEADER) or PRIMARY


def cloudfront_response(result: Answer, *, head: bool) -> dict[str, Any]:
    """A generated origin-request response. HEAD answers carry the headers and no body."""
    response: dict[str, Any] = {
        "status": str(result.status),
        "statusDescription": HTTPStatus(result.status).phrase,
        "headers": {
            name.lower(): [{"key": name, "value": value}] for name, value in result.headers.items()
        },
    }
    if result.body and not head:
        response["body"] = result.body
        response["bodyEncoding"] = "text"
    return response

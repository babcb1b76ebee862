"""The redirect at the edge: shared.redirect's answer, read through a short in-memory cache, in
the shapes CloudFront's Lambda@Edge events use.

The answer itself (status, Location, Cache-Control, X-Short-Code, the 404/410 pages) is
shared.redirect's, the same code the regional handler runs. The edge changes two things about it,
both so that CloudFront's shared cache never serves something the regional path would not:

- Age. An answer built from a lookup the function remembered for `a` seconds has `a` taken off
  its max-age and s-maxage, so a link's answer is never cached (in memory, then by CloudFront,
  then by a browser) for longer in total than SPEC section 2 allows from the moment of the read.
- 404 and 410 are `private`. Their body follows the Accept header (HTML for browsers, JSON for
  everything else) but the distribution's cache key is the path alone, so a shared copy would be
  served to the other kind of client. `private` keeps CloudFront from storing them (it honours
  private/no-store/no-cache for 404 and 410) while browsers still keep them for max-age.

Standard library only, like shared.redirect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from shared.codes import is_possible_code
from shared.edge_cache import LookupCache
from shared.redirect import Answer, answer, fetch_link, not_found

# Custom header CloudFront adds to requests it sends to each origin of the origin group, so the
# function knows whether it runs before the primary or the failover origin.
ORIGIN_ROLE_HEADER = "x-squrl-origin-role"
PRIMARY = "primary"
FAILOVER = "failover"

# The Accept-negotiated statuses of shared.redirect (see the module docstring).
NEGOTIATED_ERRORS = frozenset({404, 410})

_AGE_DIRECTIVE = re.compile(r"\b(max-age|s-maxage)=(\d+)")


class EdgeRedirector:
    """Answers codes for one function instance: one GetItem per code per cache lifetime."""

    def __init__(self, client: Any, table_name: str, cache: LookupCache):
        self.client = client
        self.table_name = table_name
        self.cache = cache

    def answer(self, code: str, now: float, accept: str | None) -> Answer:
        """Raises whatever the read raises; the caller lets the origin answer instead."""
        if not is_possible_code(code):
            return for_shared_cache(not_found(accept), age=0)
        entry = self.cache.get(code, now)
        if entry is None:
            entry = self.cache.put(code, fetch_link(self.client, self.table_name, code), now)
        age = math.ceil(now - entry.fetched_at)
        return for_shared_cache(answer(code, entry.link, now, accept), age=age)


def for_shared_cache(result: Answer, *, age: int) -> Answer:
    """`result` with its cache lifetimes aged and its negotiated errors kept out of CloudFront."""
    headers = dict(result.headers)
    cache_control = headers.get("Cache-Control")
    if cache_control is not None:
        headers["Cache-Control"] = shared_cache_control(cache_control, result.status, age)
    return Answer(status=result.status, headers=headers, body=result.body)


def shared_cache_control(value: str, status: int, age: int = 0) -> str:
    if age > 0:
        value = _AGE_DIRECTIVE.sub(lambda m: f"{m[1]}={max(0, int(m[2]) - age)}", value)
    if status in NEGOTIATED_ERRORS:
        value = re.sub(r"\bpublic\b", "private", value)
        if "private" not in value:
            value = f"private, {value}"
    return value


# CloudFront's event shapes --------------------------------------------------------------------


def header(headers: Mapping[str, list[dict[str, str]]] | None, name: str) -> str | None:
    """The first value of a header in CloudFront's `{"lower-name": [{"key", "value"}]}` form."""
    values = (headers or {}).get(name.lower())
    return values[0].get("value") if values else None


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


def protect_origin_response(response: dict[str, Any]) -> dict[str, Any]:
    """An origin (regional API) response, with a negotiated 404/410 kept out of CloudFront."""
    status = int(response.get("status", 0))
    headers = response.setdefault("headers", {})
    cache_control = header(headers, "cache-control")
    if status in NEGOTIATED_ERRORS and cache_control is not None:
        headers["cache-control"] = [
            {"key": "Cache-Control", "value": shared_cache_control(cache_control, status)}
        ]
    return response

"""The route table: every public path, its method, the function that serves it and its auth.

The api stack's REST API and the local server's gateway are both built from this table, so a
route cannot exist in one and not the other. (tests/infra keeps its own copy as a check.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    function: str
    api_key_required: bool


# Least privilege by function: get_url only reads (GetItem, Query, BatchGetItem); create_url
# only adds (new links, their first history entry, idempotency records); update_url changes and
# deletes existing links (docs/design.md, "Link management").
ROUTES = (
    Route("POST", "/urls", "create_url", True),
    Route("POST", "/create", "create_url", True),
    Route("GET", "/urls", "get_url", True),
    Route("GET", "/urls/{code}", "get_url", True),
    Route("GET", "/urls/{code}/stats", "get_url", True),
    Route("GET", "/urls/{code}/history", "get_url", True),
    Route("PATCH", "/urls/{code}", "update_url", True),
    Route("DELETE", "/urls/{code}", "update_url", True),
    Route("GET", "/health", "redirect", False),
    Route("GET", "/{code}", "redirect", False),
    Route("HEAD", "/{code}", "redirect", False),
)


def functions() -> tuple[str, ...]:
    """The functions the routes name, in first-seen order."""
    return tuple(dict.fromkeys(route.function for route in ROUTES))

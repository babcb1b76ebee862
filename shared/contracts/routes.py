"""The route table: every public path, its method, the function that serves it and its auth.

The api stack's REST API and the local server's gateway are both built from this table, so a
route cannot exist in one and not the other. (tests/infra keeps its own copy as a check.)
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.auth import LINKS_READ, LINKS_WRITE, STATS_READ


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    function: str
    api_key_required: bool
    # The personal-token scope the route needs (shared/contracts/auth.py); None for public
    # routes and for routes any signed-in caller may use.
    scope: str | None = None


# Least privilege by function: get_url only reads (GetItem, Query, BatchGetItem); create_url
# only adds (new links, their first history entry, idempotency records); update_url changes and
# deletes existing links (docs/design.md, "Link management").
ROUTES = (
    Route("POST", "/urls", "create_url", True, LINKS_WRITE),
    Route("POST", "/create", "create_url", True, LINKS_WRITE),
    Route("POST", "/urls/bulk", "create_url", True, LINKS_WRITE),
    Route("GET", "/urls", "get_url", True, LINKS_READ),
    Route("GET", "/urls/{code}", "get_url", True, LINKS_READ),
    Route("GET", "/urls/{code}/stats", "get_url", True, STATS_READ),
    Route("GET", "/urls/{code}/history", "get_url", True, LINKS_READ),
    Route("GET", "/urls/{code}/qr", "get_url", True, LINKS_READ),
    Route("PATCH", "/urls/{code}", "update_url", True, LINKS_WRITE),
    Route("DELETE", "/urls/{code}", "update_url", True, LINKS_WRITE),
    # Identity (docs/api.md section 8, docs/identity.md): any signed-in caller may manage its
    # own tokens and read who it is; a token may only grant scopes it has itself.
    Route("POST", "/tokens", "identity", True),
    Route("GET", "/tokens", "identity", True),
    Route("DELETE", "/tokens/{id}", "identity", True),
    Route("GET", "/me", "identity", True),
    Route("GET", "/me/export", "identity", True, LINKS_READ),
    Route("DELETE", "/me", "identity", True, LINKS_WRITE),
    # Import jobs (docs/imports.md): the job and its upload URL; the rows are created later by
    # the import worker, which no route invokes.
    Route("POST", "/imports", "imports", True, LINKS_WRITE),
    Route("GET", "/imports/{id}", "imports", True, LINKS_READ),
    Route("GET", "/health", "redirect", False),
    # The OpenAPI document (docs/developer-surface.md): public, from a function that already
    # carries pydantic, never the redirect, which stays lean.
    Route("GET", "/openapi.json", "get_url", False),
    Route("GET", "/{code}", "redirect", False),
    Route("HEAD", "/{code}", "redirect", False),
)


def functions() -> tuple[str, ...]:
    """The functions the routes name, in first-seen order."""
    return tuple(dict.fromkeys(route.function for route in ROUTES))

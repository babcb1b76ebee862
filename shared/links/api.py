"""What the API functions (create, get, update) share: Powertools, clients, error responses.

The redirect does not import this module: Powertools and pydantic stay off the hot path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from botocore.config import Config

from shared.contracts.auth import (
    ADMIN_GROUP,
    CONTEXT_EMAIL,
    CONTEXT_GROUPS,
    CONTEXT_OWNER_ID,
    CONTEXT_PRINCIPAL,
    CONTEXT_SCOPES,
    CONTEXT_TOKEN_ID,
    SCOPES,
)
from shared.contracts.http import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS
from shared.contracts.routes import ROUTES
from shared.links.errors import Forbidden, NotFound, RateLimitExceeded, SqurlError
from shared.settings import settings
from shared.snapstart import after_restore, before_snapshot

logger = Logger()
metrics = Metrics()
tracer = Tracer()

CLIENT_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"max_attempts": 3, "mode": "standard"}
)


@lru_cache(maxsize=2)
def dynamodb(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)


@before_snapshot
def _clients_before_snapshot() -> None:
    """With SnapStart, build the clients the handlers use (botocore's service model, endpoint
    rules and credential chain are most of a client's cost) so the snapshot holds them."""
    config = settings()
    for region in {config.region, config.home_region}:
        dynamodb(region)


@after_restore
def _clients_after_restore() -> None:
    """Drop the clients the snapshot holds: their pooled connections were opened before the
    snapshot and may be dead. New ones come from the warmed session in milliseconds."""
    dynamodb.cache_clear()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def error_response(error: SqurlError) -> Response:
    headers = {}
    if isinstance(error, RateLimitExceeded):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return json_response(error.status, error.body(), headers)


def _cors() -> CORSConfig | None:
    origins = [o.strip() for o in os.environ.get("SQURL_CORS_ORIGINS", "").split(",") if o.strip()]
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=600,
    )


def build_resolver() -> APIGatewayRestResolver:
    """A resolver whose every failure is the spec's error body, never a stack trace."""
    app = APIGatewayRestResolver(cors=_cors())

    @app.exception_handler(SqurlError)
    def handle_squrl_error(error: SqurlError) -> Response:
        if error.status >= 500:
            logger.exception("request failed", extra={"error": error.code})
        else:
            logger.info("request refused", extra={"error": error.code, "details": error.details})
        return error_response(error)

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        return error_response(SqurlError())

    app.use(middlewares=[_enforce_scope])

    @app.not_found
    def handle_not_found(_: Exception) -> Response:
        return error_response(NotFound("No such route."))

    return app


def owner_id(app: APIGatewayRestResolver) -> str:
    """The caller's owner id: the authorizer's (docs/api.md section 8), else the API key id,
    which API Gateway puts in the request context after checking it."""
    context = app.current_event.request_context
    authorizer = context.authorizer.raw_event if context.authorizer else {}
    owner = authorizer.get(CONTEXT_OWNER_ID) or context.identity.api_key_id
    if not owner:
        raise Forbidden()
    if not authorizer.get(CONTEXT_OWNER_ID):
        # Migration (docs/identity.md): an API key an operator mapped to a user acts as it.
        return _key_owners().get(owner, owner)
    return owner


@lru_cache(maxsize=1)
def _key_owners() -> dict[str, str]:
    return json.loads(os.environ.get("SQURL_KEY_OWNERS") or "{}")


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the authorizer decided (docs/api.md section 8)."""

    owner_id: str
    scopes: frozenset[str]
    groups: frozenset[str]
    email: str | None
    principal: str
    token_id: str | None

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


def _authorizer_context(app: APIGatewayRestResolver) -> dict[str, Any]:
    context = app.current_event.request_context
    return context.authorizer.raw_event if context.authorizer else {}


def caller(app: APIGatewayRestResolver) -> Caller:
    """The caller; with no authorizer context (an API key checked by API Gateway alone),
    the key's id with every scope."""
    found = _authorizer_context(app)
    scopes = found.get(CONTEXT_SCOPES)
    return Caller(
        owner_id=owner_id(app),
        scopes=frozenset(str(scopes).split()) if scopes is not None else frozenset(SCOPES),
        groups=frozenset(str(found.get(CONTEXT_GROUPS) or "").split()),
        email=found.get(CONTEXT_EMAIL) or None,
        principal=found.get(CONTEXT_PRINCIPAL) or "api_key",
        token_id=found.get(CONTEXT_TOKEN_ID) or None,
    )


def route_scope(method: str, resource: str) -> str | None:
    for route in ROUTES:
        if route.method == method and route.resource == resource:
            return route.scope
    return None


def _enforce_scope(app: APIGatewayRestResolver, next_middleware: Any) -> Response:
    """A call outside the token's scopes is 403 with `details.reason` `scope`, before the
    request is read: Route.scope (shared/contracts/routes.py) names what each route needs."""
    event = app.current_event
    needed = route_scope(event.http_method, event.resource)
    if needed is not None:
        scopes = _authorizer_context(app).get(CONTEXT_SCOPES)
        if scopes is not None and needed not in str(scopes).split():
            raise Forbidden(
                f"This token does not have the scope {needed}.",
                {"reason": "scope", "scope": needed},
            )
    return next_middleware(app)

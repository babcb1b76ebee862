"""Identity routes (docs/api.md section 8): personal tokens (POST/GET /tokens, DELETE
/tokens/{id}) and the caller's account (GET /me, GET /me/export, DELETE /me)."""

from __future__ import annotations

import base64
import time
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.identity import account, users
from shared.identity.config import identity_settings
from shared.identity.jwt import CognitoPool
from shared.identity.tokens import TokenError, TokenRecord, TokenStore
from shared.links.api import (
    CLIENT_CONFIG,
    build_resolver,
    caller,
    dynamodb,
    json_response,
    logger,
    metrics,
    tracer,
)
from shared.links.errors import Forbidden, NotFound, RateLimitExceeded, SqurlError, ValidationError
from shared.links.models import json_object
from shared.settings import settings

config = settings()
identity = identity_settings()
app = build_resolver()


def _tokens() -> TokenStore:
    # Token writes go to the home region, as every write does (docs/api.md section 5).
    return TokenStore(dynamodb(config.home_region), config.table_name)


def _read_parameter(name: str, region: str) -> str:
    client = boto3.client("ssm", region_name=region, config=CLIENT_CONFIG)
    return str(client.get_parameter(Name=name)["Parameter"]["Value"])


@lru_cache(maxsize=1)
def _pool() -> CognitoPool | None:
    return identity.resolve_pool(_read_parameter)


@lru_cache(maxsize=1)
def _cognito() -> Any:
    pool = _pool()
    region = pool.region if pool else config.home_region
    return boto3.client("cognito-idp", region_name=region, config=CLIENT_CONFIG)


def _body() -> bytes:
    event = app.current_event
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")


def _refusal(error: TokenError) -> SqurlError:
    if error.kind == "not_found":
        return NotFound("No such token.")
    if error.kind == "rate_limited":
        return RateLimitExceeded(error.retry_after, "Too many tokens created; try again later.")
    if error.kind == "too_many":
        return ValidationError(
            "Too many live tokens; revoke one first.", field="name", reason="too_many_tokens"
        )
    return SqurlError("The tokens kept changing; try again.")


def _calling_token(store: TokenStore, who: Any) -> TokenRecord:
    """The token the caller authenticated with; revoked since the authorizer checked it: 403."""
    record = store.get(who.owner_id, who.token_id or "")
    if record is None:
        raise Forbidden("The calling token is no longer valid.", {"reason": "revoked"})
    return record


@app.post("/tokens")
@tracer.capture_method
def create_token() -> Response:
    who = caller(app)
    name, scopes, days = account.parse_token_request(json_object(_body()), who.scopes)
    store = _tokens()
    now = time.time()
    cap = None
    if who.principal == "token":
        cap = account.check_parent_expiry(_calling_token(store, who).expires_at, days, now)
    try:
        record, secret = store.create(
            who.owner_id, name, scopes, days, now, email=who.email, expires_at=cap
        )
    except TokenError as error:
        raise _refusal(error) from None
    logger.info("token created", extra={"token_id": record.id, "scopes": list(record.scopes)})
    view = record.view()
    body = {k: view[k] for k in ("id", "name", "scopes", "created_at", "expires_at")}
    return json_response(201, {**body, "token": secret}, {"Location": f"/tokens/{record.id}"})


@app.get("/tokens")
@tracer.capture_method
def list_tokens() -> Response:
    records = _tokens().list(caller(app).owner_id)
    return json_response(200, {"items": [record.view() for record in records]})


@app.delete("/tokens/<token_id>")
@tracer.capture_method
def revoke_token(token_id: str) -> Response:
    who = caller(app)
    store = _tokens()
    if who.principal == "token":
        target = store.get(who.owner_id, token_id)
        if target is None:
            raise NotFound("No such token.")
        if not account.may_revoke(who.scopes, target.scopes):
            raise Forbidden(
                "A token may only revoke tokens whose scopes it has itself.",
                {"reason": "scope_exceeds_caller"},
            )
    try:
        store.revoke(who.owner_id, token_id, time.time())
    except TokenError as error:
        raise _refusal(error) from None
    logger.info("token revoked", extra={"token_id": token_id})
    return Response(status_code=204)


def _me() -> dict[str, Any]:
    who = caller(app)
    return {"user_id": who.owner_id, "email": who.email, "groups": sorted(who.groups)}


@app.get("/me")
@tracer.capture_method
def me() -> Response:
    return json_response(200, _me())


@app.get("/me/export")
@tracer.capture_method
def export() -> Response:
    user = _me()
    # Read in the home region, where every write lands: the export is complete at once.
    document = account.export(
        dynamodb(config.home_region), config, _tokens(), user=user, now=time.time()
    )
    # The audit line of the right of access (GDPR article 15): who, and how much.
    logger.info(
        "audit: account exported",
        extra={
            "audit": "export",
            "owner_id": user["user_id"],
            "links": len(document["links"]),
            "tokens": len(document["tokens"]),
        },
    )
    return json_response(200, document)


def _remove_user(owner_id: str) -> bool:
    pool = _pool()
    if pool is None:
        return False
    return users.remove_user(_cognito(), pool.pool_id, owner_id)


@app.delete("/me")
@tracer.capture_method
def erase() -> Response:
    who = caller(app)
    outcome = account.erase(
        dynamodb(config.home_region),
        config,
        _tokens(),
        owner_id=who.owner_id,
        remove_user=_remove_user,
        now=time.time(),
    )
    # The audit line of the right to erasure (GDPR article 17).
    logger.info(
        "audit: account erased", extra={"audit": "erase", "owner_id": who.owner_id, **outcome}
    )
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

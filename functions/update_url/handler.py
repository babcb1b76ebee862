"""PATCH /urls/{code} (change a link) and DELETE /urls/{code} (tombstone it), owner only.

Both are conditional on the link's version: `If-Match` names the one the caller saw (412 when
it moved on); without it, a concurrent change is merged by applying this one again on top.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.links import service
from shared.links.api import (
    build_resolver,
    caller,
    dynamodb,
    json_response,
    logger,
    metrics,
    owner_id,
    tracer,
)
from shared.links.errors import NotFound
from shared.links.models import etag, parse_if_match, parse_update_request
from shared.settings import settings

config = settings()
policy = service.url_policy(config)
app = build_resolver()


def _body() -> bytes:
    event = app.current_event
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")


@app.patch("/urls/<code>")
@tracer.capture_method
def update(code: str) -> Response:
    now = time.time()
    # Every rule is checked before the link is read: a bad request changes nothing.
    patch = service.prepare_patch(parse_update_request(_body()), policy, now)
    who = caller(app)
    client = dynamodb(config.home_region)
    if_match = parse_if_match(app.current_event.headers.get("if-match"))
    try:
        link = service.update_link(
            client, config, code, patch, owner_id=who.owner_id, if_match=if_match, now=now
        )
    except NotFound:
        if not who.is_admin:
            raise
        # An admin may change the status of any link; its history names the admin.
        link = service.admin_update_status(
            client, config, code, patch, admin_id=who.owner_id, if_match=if_match, now=now
        )
        logger.info(
            "admin changed a link's status", extra={"short_code": code, "admin": who.owner_id}
        )
    logger.info("link updated", extra={"short_code": code, "version": link["version"]})
    return json_response(200, link, {"ETag": etag(link["version"])})


@app.delete("/urls/<code>")
@tracer.capture_method
def delete(code: str) -> Response:
    service.delete_link(
        dynamodb(config.home_region),
        config,
        code,
        owner_id=owner_id(app),
        if_match=parse_if_match(app.current_event.headers.get("if-match")),
        now=time.time(),
    )
    logger.info("link deleted", extra={"short_code": code})
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

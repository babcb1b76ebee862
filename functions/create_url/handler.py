"""POST /urls (and its alias POST /create): shorten a URL."""

from __future__ import annotations

import base64
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.contracts import metrics as metric_names
from shared.links import service
from shared.links.api import (
    build_resolver,
    dynamodb,
    json_response,
    logger,
    metrics,
    owner_id,
    tracer,
)
from shared.links.models import parse_create_request
from shared.settings import settings

config = settings()
policy = service.url_policy(config)
app = build_resolver()


@app.post("/urls")
@app.post("/create")
@tracer.capture_method
def create() -> Response:
    event = app.current_event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    request = parse_create_request(body)
    status, link = service.create_link(
        dynamodb(config.home_region),
        config,
        policy,
        request,
        owner_id=owner_id(app),
        now=time.time(),
    )
    if status == 201:
        metrics.add_metric(name=metric_names.LINKS_CREATED, unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=metric_names.LINKS_DEDUPLICATED, unit=MetricUnit.Count, value=1)
    logger.info("link stored", extra={"short_code": link["short_code"], "status": status})
    return json_response(status, link, {"Location": f"/urls/{link['short_code']}"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

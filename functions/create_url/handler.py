"""POST /urls (and its alias POST /create): shorten a URL, once per Idempotency-Key; POST
/urls/bulk: up to 100 of them in one request, answered item by item."""

from __future__ import annotations

import base64
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.contracts import metrics as metric_names
from shared.links import bulk, idempotency, service
from shared.links.api import (
    build_resolver,
    dynamodb,
    json_response,
    logger,
    metrics,
    owner_id,
    tracer,
)
from shared.links.models import json_object, parse_bulk_request, parse_create_request
from shared.settings import settings

config = settings()
policy = service.url_policy(config)
app = build_resolver()


@app.post("/urls")
@app.post("/create")
@tracer.capture_method
def create() -> Response:
    event = app.current_event
    body = _request_body()
    # Every rule is checked before anything is stored, an idempotency record included.
    request = parse_create_request(body)
    key = idempotency.key_from_headers(event.headers)
    owner, now = owner_id(app), time.time()
    new = service.prepare_create(request, policy, now)
    client = dynamodb(config.home_region)

    def create_once() -> tuple[int, dict[str, Any]]:
        return service.create_prepared(client, config, new, owner_id=owner, now=now)

    if key is None:
        (status, link), replayed = create_once(), False
    else:
        status, link, replayed = idempotency.first_answer(
            client,
            config.table_name,
            owner_id=owner,
            key=key,
            body=json_object(body),
            create=create_once,
            lambda_context=app.lambda_context,
        )
    headers = {"Location": f"/urls/{link['short_code']}"}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    elif status == 201:
        metrics.add_metric(name=metric_names.LINKS_CREATED, unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=metric_names.LINKS_DEDUPLICATED, unit=MetricUnit.Count, value=1)
    logger.info(
        "link stored",
        extra={"short_code": link["short_code"], "status": status, "replayed": replayed},
    )
    return json_response(status, link, headers)


@app.post("/urls/bulk")
@tracer.capture_method
def create_bulk() -> Response:
    event = app.current_event
    body = _request_body()
    # The envelope (1..100 items) is checked before anything is stored; each item on its own.
    items = parse_bulk_request(body)
    key = idempotency.key_from_headers(event.headers)
    owner, now = owner_id(app), time.time()
    client = dynamodb(config.home_region)

    def create_all() -> tuple[int, dict[str, Any]]:
        results = bulk.create_each(client, config, policy, items, owner_id=owner, now=now)
        return 200, {"results": results}

    if key is None:
        (status, answer), replayed = create_all(), False
    else:
        status, answer, replayed = idempotency.first_answer(
            client,
            config.table_name,
            owner_id=owner,
            key=key,
            body={"bulk": items},
            create=create_all,
            lambda_context=app.lambda_context,
        )
    headers = {idempotency.REPLAYED_HEADER: "true"} if replayed else None
    if not replayed:
        for result in answer["results"]:
            name = _RESULT_METRICS.get(result["status"])
            if name is not None:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.info(
        "bulk create answered",
        extra={"items": len(items), "replayed": replayed},
    )
    return json_response(status, answer, headers)


_RESULT_METRICS = {
    201: metric_names.LINKS_CREATED,
    200: metric_names.LINKS_DEDUPLICATED,
}


def _request_body() -> bytes:
    event = app.current_event
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

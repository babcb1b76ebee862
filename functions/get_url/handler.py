"""GET /urls/{code} and GET /urls/{code}/stats: a link and its click counters, for its owner."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.clicks import stats
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
from shared.settings import settings

config = settings()
app = build_resolver()


@app.get("/urls/<code>")
@tracer.capture_method
def get_link(code: str) -> Response:
    link = service.get_owned_link(
        dynamodb(config.region), config, code, owner_id=owner_id(app), now=time.time()
    )
    return json_response(200, link)


@app.get("/urls/<code>/stats")
@tracer.capture_method
def get_link_stats(code: str) -> Response:
    owned = stats.owned_link_stats(
        dynamodb(config.region), config.table_name, code, owner_id=owner_id(app)
    )
    return json_response(200, owned)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

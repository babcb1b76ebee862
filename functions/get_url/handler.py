"""The read routes, for the caller's own links: GET /urls (a page of them), GET /urls/{code}
(one, with its ETag), GET /urls/{code}/stats (its click counters), GET /urls/{code}/history,
GET /urls/{code}/qr (its short URL as a QR code); and the public GET /openapi.json."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.clicks import stats
from shared.links import listing, qr, service
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
from shared.links.models import etag
from shared.settings import settings

config = settings()
app = build_resolver()


@app.get("/urls")
@tracer.capture_method
def list_links() -> Response:
    query = listing.parse_list_query(app.current_event.multi_value_query_string_parameters)
    page = service.list_links(
        dynamodb(config.region), config, query, owner_id=owner_id(app), now=time.time()
    )
    return json_response(200, page)


@app.get("/urls/<code>")
@tracer.capture_method
def get_link(code: str) -> Response:
    who = caller(app)
    client = dynamodb(config.region)
    try:
        link = service.get_owned_link(client, config, code, owner_id=who.owner_id, now=time.time())
    except NotFound:
        if not who.is_admin:
            raise
        # An admin reads any link (docs/api.md section 8), and it is logged.
        link = service.get_any_link(client, config, code, now=time.time())
        logger.info("admin read a link", extra={"short_code": code, "admin": who.owner_id})
    return json_response(200, link, {"ETag": etag(link["version"])})


@app.get("/urls/<code>/history")
@tracer.capture_method
def get_link_history(code: str) -> Response:
    changes = service.link_history(dynamodb(config.region), config, code, owner_id=owner_id(app))
    return json_response(200, changes)


@app.get("/urls/<code>/stats")
@tracer.capture_method
def get_link_stats(code: str) -> Response:
    owned = stats.owned_link_stats(
        dynamodb(config.region), config.table_name, code, owner_id=owner_id(app)
    )
    return json_response(200, owned)


@app.get("/urls/<code>/qr")
@tracer.capture_method
def get_link_qr(code: str) -> Response:
    query = qr.parse_qr_query(app.current_event.multi_value_query_string_parameters)
    link = service.get_owned_link(
        dynamodb(config.region), config, code, owner_id=owner_id(app), now=time.time()
    )
    image = qr.qr_image(link["short_url"], query)
    headers = {"ETag": image.etag, "Cache-Control": qr.CACHE_CONTROL}
    if qr.not_modified(app.current_event.headers.get("if-none-match"), image.etag):
        return Response(status_code=304, headers=headers)
    # Bytes are sent base64-encoded; API Gateway turns them back into bytes for the binary
    # media type image/png. SVG is text and travels as such.
    body = image.body if query.format == "png" else image.body.decode("utf-8")
    return Response(status_code=200, content_type=image.content_type, body=body, headers=headers)


@app.get("/openapi.json")
def get_openapi() -> Response:
    # Public: this document only describes the API. Built once per execution environment.
    return Response(
        status_code=200,
        content_type="application/json",
        body=_openapi_text(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@lru_cache(maxsize=1)
def _openapi_text() -> str:
    from shared import openapi  # only this route needs the generator

    return openapi.document_text()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""GET/HEAD /{code} and GET /health: the hot path.

Imports only the standard library, boto3 and squrl's stdlib-only modules. The client is made at
module scope, so Lambda builds it during init (which runs at full CPU) and every invocation
reuses it; each request costs one projected, eventually consistent GetItem.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from botocore.config import Config

from shared.clicks import recorder
from shared.redirect import Answer, answer_for_code
from shared.settings import settings

config = settings()
# Tight timeouts: a redirect that waits seconds on the table is worse than a fast 5xx, which
# lets CloudFront's origin group fail over to another region.
_CLIENT_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=1.0,
    retries={"max_attempts": 2, "mode": "standard"},
    tcp_keepalive=True,
)


def _make_client() -> Any:
    if config.dax_endpoint:
        from amazondax import AmazonDaxClient  # only where the environment turns DAX on

        return AmazonDaxClient(endpoint_url=config.dax_endpoint, region_name=config.region)
    return boto3.client("dynamodb", region_name=config.region, config=_CLIENT_CONFIG)


client = _make_client()
record_click = recorder()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("resource") == "/health" or event.get("path") == "/health":
        return _proxy_response(
            Answer(
                200,
                {"Content-Type": "application/json", "Cache-Control": "no-store"},
                json.dumps({"status": "ok", "region": config.region}),
            ),
            head=False,
        )
    code = (event.get("pathParameters") or {}).get("code") or ""
    headers = _lower_headers(event.get("headers"))
    method = event.get("httpMethod", "GET")
    result = answer_for_code(client, config.table_name, code, time.time(), headers.get("accept"))
    if record_click is not None and method == "GET" and result.is_redirect:
        record_click(code, headers)
    return _proxy_response(result, head=method == "HEAD")


def _lower_headers(headers: dict[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def _proxy_response(result: Answer, *, head: bool) -> dict[str, Any]:
    return {
        "statusCode": result.status,
        "headers": result.headers,
        "body": "" if head else result.body,
        "isBase64Encoded": False,
    }

"""GET/HEAD /{code} and GET /health: the hot path.

Imports only the standard library and squrl's stdlib-only modules (its DynamoDB reader is
shared.redirect.dynamodb; boto3 only where DAX is on). The client is made at
module scope, so Lambda builds it during init (which runs at full CPU) and every invocation
reuses it; each request costs one projected, eventually consistent GetItem, answered by the
redirect core both paths share (shared.redirect.core).
"""

from __future__ import annotations

import json
import time
from typing import Any

from shared.clicks.producer import recorder
from shared.contracts.http import HEALTH_PATH
from shared.redirect.answer import Answer
from shared.redirect.client import redirect_client
from shared.redirect.core import Redirector
from shared.settings import settings

config = settings()
redirector = Redirector(redirect_client(config.region, config.dax_endpoint), config.table_name)
record_click = recorder()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("resource") == HEALTH_PATH or event.get("path") == HEALTH_PATH:
        return _proxy_response(
            Answer(
                200,
                {"Content-Type": "application/json", "Cache-Control": "no-store"},
                json.dumps({"status": "ok", "region": config.region}),
            ),
            head=False,
        )
    # API Gateway decodes path parameters: `/%50e` arrives as `Pe`, never to be decoded again.
    code = (event.get("pathParameters") or {}).get("code") or ""
    headers = _lower_headers(event.get("headers"))
    method = event.get("httpMethod", "GET")
    result = redirector.answer(code, time.time(), headers.get("accept"))
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

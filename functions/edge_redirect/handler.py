"""Lambda@Edge for the distribution's default behaviour: GET/HEAD /{code} answered at the edge.

Origin request: one projected GetItem on the global-table replica nearest to the region this copy
runs in (chosen at synth, shared.edge_config), then the same answer the regional handler gives
(shared.redirect), as a response CloudFront caches by the answer's Cache-Control under a key of
path and `x-squrl-format` (html|json, set from Accept by the viewer-request CloudFront Function);
404/410 come in the format that header names. When the read fails, the request goes on to the
origin group (the regional APIs) with the canonical Accept of that format, so the origin answers
the same way; nothing else is awaited.

Clicks are not recorded here: CloudFront's real-time logs carry every answered request, cache
hits included (shared.edge_log_fields).

Imports only the standard library, boto3 and squrl's stdlib-only modules.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.config import Config

from shared.edge_cache import LookupCache
from shared.edge_config import load
from shared.edge_redirect import (
    CANONICAL_ACCEPT,
    FAILOVER,
    EdgeRedirector,
    cloudfront_response,
    for_origin,
    origin_role,
    request_format,
)

# Tight timeouts and one retry: a redirect that waits seconds on a replica is worse than handing
# the request to the regional API, which the function does as soon as the read gives up.
# Worst case: 2 x (0.5 s connect + 0.8 s read) + one backoff, well inside the 5 s timeout.
CLIENT_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=0.8,
    retries={"max_attempts": 2, "mode": "standard"},
    tcp_keepalive=True,
)
# Answers served from memory carry `Age` (shared.edge_redirect), so caches downstream count the
# time the lookup spent here against the answer's lifetime (docs/edge.md, staleness bound).
MEMORY_TTL_SECONDS = 30.0
MEMORY_MAX_ENTRIES = 4096
HEALTH_PATH = "/health"

logger = logging.getLogger("squrl.edge")
logger.setLevel(logging.INFO)

config = load()
# Lambda@Edge sets AWS_REGION to the region this copy runs in, not to us-east-1.
read_region = config.replica_region(os.environ.get("AWS_REGION"))
client = boto3.client("dynamodb", region_name=read_region, config=CLIENT_CONFIG)
redirector = EdgeRedirector(
    client, config.table_name, LookupCache(MEMORY_MAX_ENTRIES, MEMORY_TTL_SECONDS)
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, redirector)


def handle(event: dict[str, Any], edge: EdgeRedirector) -> dict[str, Any]:
    cf = event["Records"][0]["cf"]
    if cf.get("config", {}).get("eventType") != "origin-request":
        # Only origin request is associated; anything else passes through untouched.
        return cf.get("response") or cf["request"]
    request = cf["request"]
    uri = request.get("uri", "/")
    fmt = request_format(request)
    # The failover origin is only reached after this function already handed the request on
    # (the read failed and the primary API failed too): reading again would only add latency.
    if uri == HEALTH_PATH or origin_role(request) == FAILOVER:
        return for_origin(request, fmt)
    code = unquote(uri[1:]) if uri.startswith("/") else ""
    try:
        result = edge.answer(code, time.time(), CANONICAL_ACCEPT[fmt])
    except Exception as error:  # any failure of the read: the origin group answers instead
        logger.warning(
            json.dumps(
                {
                    "message": "edge read failed; forwarding to the origin",
                    "error": type(error).__name__,
                    "code": code,
                    "read_region": read_region,
                }
            )
        )
        return for_origin(request, fmt)
    return cloudfront_response(result, head=request.get("method") == "HEAD")

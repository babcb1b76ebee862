"""Lambda@Edge for the distribution's default behaviour: GET/HEAD /{code} answered at the edge.

Origin request: one projected GetItem on the global-table replica nearest to the region this copy
runs in (chosen at synth, shared.redirect.edge_config), then the same answer the regional handler
gives (shared.redirect.core), as a response CloudFront caches by the answer's Cache-Control under a
key of path and `x-squrl-format` (html|json, set from Accept by the viewer-request CloudFront
Function);
404/410 come in the format that header names. When the read fails, the request goes on to the
origin group (the regional APIs) with the canonical Accept of that format, so the origin answers
the same way; nothing else is awaited.

Clicks are not recorded here: CloudFront's real-time logs carry every answered request, cache
hits included (shared.contracts.edge_log_fields).

Imports only the standard library and squrl's stdlib-only modules (shared.redirect.dynamodb
reads the replica; no boto3).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from shared.contracts.codes import code_from_path
from shared.contracts.http import CANONICAL_ACCEPT, FAILOVER, HEALTH_PATH
from shared.redirect.client import redirect_client
from shared.redirect.core import Redirector
from shared.redirect.edge import cloudfront_response, for_origin, origin_role, request_format
from shared.redirect.edge_cache import LookupCache
from shared.redirect.edge_config import load

# Answers served from memory carry `Age` (shared.redirect.core), so caches downstream count the
# time the lookup spent here against the answer's lifetime (docs/edge.md, staleness bound).
MEMORY_TTL_SECONDS = 30.0
MEMORY_MAX_ENTRIES = 4096

logger = logging.getLogger("squrl.edge")
logger.setLevel(logging.INFO)

config = load()
# Lambda@Edge sets AWS_REGION to the region this copy runs in, not to us-east-1.
read_region = config.replica_region(os.environ.get("AWS_REGION"))
# Never DAX: Lambda@Edge cannot enter a VPC.
client = redirect_client(read_region)
redirector = Redirector(
    client, config.table_name, LookupCache(MEMORY_MAX_ENTRIES, MEMORY_TTL_SECONDS)
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, redirector)


def handle(event: dict[str, Any], edge: Redirector) -> dict[str, Any]:
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
    code = code_from_path(uri)
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

"""DynamoDB stream (links table) -> one CloudFront invalidation per batch of changed links.

Thin: shared/redirect/invalidation.py decides which paths a batch makes stale. The distribution
id is read once from the SSM parameter the edge stack writes in us-east-1 (the table's stream and
this function are in the home region, the distribution in CloudFront's). A failed call raises:
the event source mapping retries, bisects and finally records the batch in the dead-letter queue.
"""

from __future__ import annotations

import os
import time
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from shared.contracts import metrics as metric_names
from shared.redirect.invalidation import invalidation_batch, paths_for_batch, settle_seconds

logger = Logger()
metrics = Metrics()

PARAMETER_NAME = os.environ["SQURL_DISTRIBUTION_ID_PARAMETER"]
PARAMETER_REGION = os.environ["SQURL_DISTRIBUTION_ID_REGION"]
MAX_PATHS = int(os.environ.get("SQURL_INVALIDATION_MAX_PATHS", "100"))
# The edge function's lookup memory (functions/edge_redirect MEMORY_TTL_SECONDS, 30 s) plus 5 s
# for a distant replica's replication lag and the record time's rounding (docs/edge.md).
EDGE_MEMORY_SECONDS = float(os.environ.get("SQURL_EDGE_MEMORY_SECONDS", "35"))
_CLIENT_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"})
cloudfront = boto3.client("cloudfront", config=_CLIENT_CONFIG)
ssm = boto3.client("ssm", region_name=PARAMETER_REGION, config=_CLIENT_CONFIG)


@cache
def distribution_id() -> str:
    return str(ssm.get_parameter(Name=PARAMETER_NAME)["Parameter"]["Value"])


def _caller_reference(event: dict[str, Any]) -> str:
    """The batch's first and last event ids: a retried batch repeats its reference, and
    CloudFront answers a repeated reference with the invalidation it already made."""
    records = event.get("Records", [])
    return f"{records[0]['eventID']}-{records[-1]['eventID']}"[:128]


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invalidation = paths_for_batch(event.get("Records", []), MAX_PATHS)
    if not invalidation.paths:
        return {"paths": 0}
    # Lookups the edge function read before the change expire first (docs/edge.md).
    time.sleep(settle_seconds(event["Records"], time.time(), EDGE_MEMORY_SECONDS))
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id(),
        InvalidationBatch=invalidation_batch(invalidation, _caller_reference(event)),
    )
    logger.info(
        "invalidated",
        extra={
            "invalidation_id": response["Invalidation"]["Id"],
            "codes": len(invalidation.codes),
            "wildcard": invalidation.wildcard,
        },
    )
    metrics.add_metric(
        name=metric_names.INVALIDATED_PATHS, unit=MetricUnit.Count, value=len(invalidation.paths)
    )
    metrics.add_metric(
        name=metric_names.WILDCARD_INVALIDATIONS,
        unit=MetricUnit.Count,
        value=int(invalidation.wildcard),
    )
    return {"paths": len(invalidation.paths)}

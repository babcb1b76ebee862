"""The one DynamoDB client configuration of both redirect paths.

Tight timeouts and one retry: a redirect that waits seconds on the table is worse than a fast
failure, after which CloudFront's origin group fails over to another region (regional path) or
the edge function hands the request to the regional API (edge path). Worst case:
2 x (0.5 s connect + 0.8 s read) + one backoff, well inside both functions' timeouts.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

CLIENT_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=0.8,
    retries={"max_attempts": 2, "mode": "standard"},
    tcp_keepalive=True,
)


def redirect_client(region: str, dax_endpoint: str = "") -> Any:
    """A GetItem client for `region`'s replica, or DAX in front of it where the environment
    turns DAX on (the regional path only: Lambda@Edge cannot enter a VPC)."""
    if dax_endpoint:
        from amazondax import AmazonDaxClient  # imported only where DAX is on

        return AmazonDaxClient(endpoint_url=dax_endpoint, region_name=region)
    return boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)

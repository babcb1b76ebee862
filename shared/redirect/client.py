"""The one DynamoDB client of both redirect paths.

Tight timeouts and one retry: a redirect that waits seconds on the table is worse than a fast
failure, after which CloudFront's origin group fails over to another region (regional path) or
the edge function hands the request to the regional API (edge path). Worst case:
2 x (0.5 s connect + 0.8 s read) + one pause of at most 25 ms, well inside both functions'
timeouts (shared.redirect.dynamodb has the numbers).

Without DAX this is the standard-library GetItem client, so neither redirect path imports boto3:
boto3 and one client were the whole of their cold start (docs/design.md, "The lean reader").
"""

from __future__ import annotations

from typing import Any

from shared.redirect.dynamodb import GetItemClient


def redirect_client(region: str, dax_endpoint: str = "") -> Any:
    """A GetItem client for `region`'s replica, or DAX in front of it where the environment
    turns DAX on (the regional path only: Lambda@Edge cannot enter a VPC)."""
    if dax_endpoint:
        # boto3's stack, imported only where DAX is on.
        from amazondax import AmazonDaxClient

        return AmazonDaxClient(endpoint_url=dax_endpoint, region_name=region)
    return GetItemClient(region)

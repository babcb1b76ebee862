"""What an environment costs a month with no traffic, for `make preflight`'s budget check.

These are the figures of the outside review of the synthesized templates (us-east-1 list
prices, USD a month, nothing request-priced), kept with the shape of configuration each one
assumes. They stand until a cost model computes the figure from the templates themselves; a
configuration of another shape has no figure here, and preflight says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from squrl_config.models import EnvironmentConfig


@dataclass(frozen=True)
class Shape:
    """The switches that decide the cost at rest; equal shapes cost the same."""

    serving_regions: int
    # Per serving region, e.g. "3 x dax.t3.small"; None without DAX.
    dax: str | None
    analytics: bool
    # The edge's real-time log stream: "provisioned, 1 shard" or "on_demand"; None without edge.
    edge_stream: str | None
    waf: bool
    canary: bool


@dataclass(frozen=True)
class CostAtRest:
    low_usd: float
    high_usd: float
    shape: Shape
    # What the figure is made of, for the preflight message and docs/deploy.md.
    assumptions: str


REVIEWED: tuple[CostAtRest, ...] = (
    CostAtRest(
        37,
        40,
        Shape(1, None, False, "provisioned, 1 shard", True, False),
        "1 region; regional WAF ACL with 5 rules ($10) and CloudFront WAF ACL with its rules "
        "(~$11); edge request stream, 1 provisioned shard (~$11); dashboard ($3), alarms and "
        "the alarm topic's KMS key (~$2-5); no DAX, no analytics, no canary",
    ),
    CostAtRest(
        77,
        83,
        Shape(2, None, True, "provisioned, 1 shard", True, True),
        "2 regions; regional WAF ACLs ($20) and CloudFront WAF (~$11); edge request stream and "
        "click stream, 1 provisioned shard each (~$22); canary every 5 minutes (~$10); "
        "2 dashboards ($6), alarms and KMS keys (~$8-14); no DAX",
    ),
    CostAtRest(
        440,
        490,
        Shape(3, "3 x dax.t3.small", True, "on_demand", True, True),
        "3 regions; DAX, 3 x dax.t3.small per region (~$265) and X-Ray interface endpoints in "
        "3 zones per region (~$66); regional WAF ACLs ($30) and CloudFront WAF (~$11); "
        "on-demand edge request stream (~$29) and click stream, 1 shard (~$11); canary (~$10); "
        "3 dashboards ($9), alarms, KMS keys, VPC flow logs (~$9-59)",
    ),
)

# Route 53 health checks on each region's /health behind `api.<short domain>`: $0.50-0.75 a
# month each plus $1-2 for HTTPS, depending on whether Route 53 counts API Gateway as an AWS
# endpoint. The hosted zone itself ($0.50) is the operator's, created before squrl.
API_HOST_PER_REGION_USD = (1.50, 2.75)


def shape_of(config: EnvironmentConfig) -> Shape:
    edge_stream = None
    if config.edge.enabled:
        edge_stream = (
            "on_demand"
            if config.edge.realtime_log_stream_mode == "on_demand"
            else f"provisioned, {config.edge.realtime_log_shards} shard"
            + ("s" if config.edge.realtime_log_shards > 1 else "")
        )
    return Shape(
        serving_regions=len(config.serving_regions),
        dax=(
            f"{config.dax.replication_factor} x {config.dax.node_type}"
            if config.dax.enabled
            else None
        ),
        analytics=config.analytics.enabled,
        edge_stream=edge_stream,
        waf=config.waf.enabled,
        canary=config.observability.canary,
    )


def cost_at_rest(config: EnvironmentConfig) -> CostAtRest | None:
    """The reviewed figure for this configuration's shape (plus the API host's health checks),
    or None when no reviewed figure has its shape."""
    shape = shape_of(config)
    for reviewed in REVIEWED:
        if reviewed.shape == shape:
            if not config.api_host:
                return reviewed
            regions = shape.serving_regions
            low, high = (regions * price for price in API_HOST_PER_REGION_USD)
            return CostAtRest(
                reviewed.low_usd + low,
                reviewed.high_usd + high,
                shape,
                f"{reviewed.assumptions}; Route 53 health checks for api.<short domain>, "
                f"one per region (${low:.2f}-{high:.2f})",
            )
    return None

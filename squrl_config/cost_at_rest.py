"""What an environment costs a month with no traffic, and the budget that follows from it.

The figures are the cost model's (`make cost`, tools/cost_model, docs/cost.md): computed from the
synthesized templates of the committed environments and the price table docs/prices.toml, and
written to cost_at_rest.json beside this module. A test fails when the file is not what the
model computes from today's templates, so the figures here are never hand-made.

Each figure holds for the *shape* of configuration it was computed from (what decides the cost
at rest: regions, DAX, streams, WAF, canary, dashboards, cold-start switches). A configuration of
another shape has no figure; preflight says so instead of guessing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from squrl_config.models import EnvironmentConfig

FIGURES = Path(__file__).with_name("cost_at_rest.json")

# The budget's first notification: ACTUAL above 80% (cdk_constructs/observability/budget.py,
# pinned by tests/infra/test_preflight_templates.py).
BUDGET_FIRST_ALERT_PERCENT = 80
# Budget defaults are rounded up to this many dollars.
BUDGET_STEP_USD = 10


@dataclass(frozen=True)
class CostAtRest:
    usd: float
    # The committed environment whose templates the figure was computed from.
    modelled_on: str
    by_service: dict[str, float]
    # What the budget default allows for traffic on top (the model's stated allowance).
    traffic_allowance_usd: float
    traffic_allowance: str
    # Route 53 health checks of `api.<short domain>`, included in `usd` when the config has it.
    api_host_usd: float = 0.0

    @property
    def summary(self) -> str:
        parts = [f"{service} ${usd:.2f}" for service, usd in self.by_service.items() if usd]
        if self.api_host_usd:
            parts.append(f"Route 53 health checks for the api. host ${self.api_host_usd:.2f}")
        return ", ".join(parts)

    @property
    def budget_default_usd(self) -> float:
        """The smallest budget, in steps of $10, whose first alert (80%) is above the cost at
        rest plus the traffic allowance."""
        needed = (self.usd + self.traffic_allowance_usd) * 100 / BUDGET_FIRST_ALERT_PERCENT
        return float(math.floor(needed / BUDGET_STEP_USD) * BUDGET_STEP_USD + BUDGET_STEP_USD)


def shape_of(config: EnvironmentConfig) -> dict[str, Any]:
    """The switches that decide the cost at rest; equal shapes cost the same."""
    analytics = config.analytics.enabled
    edge_stream = None
    if config.edge.enabled and analytics:  # the edge request stream exists only with analytics
        edge_stream = (
            "on_demand"
            if config.edge.realtime_log_stream_mode == "on_demand"
            else f"{config.edge.realtime_log_shards} shard(s)"
        )
    warmed = {name: c for name, c in sorted(config.cold_starts.items()) if c.published}
    return {
        "serving_regions": len(config.serving_regions),
        "dax": (
            f"{config.dax.replication_factor} x {config.dax.node_type}"
            if config.dax.enabled
            else None
        ),
        "click_stream_shards": config.analytics.stream_shards if analytics else None,
        "edge": config.edge.enabled,
        "edge_stream": edge_stream,
        "waf": config.waf.enabled,
        "managed_rules": config.waf.enabled and config.waf.managed_rules,
        "canary": config.observability.canary,
        "dashboard": config.observability.dashboard,
        "cold_starts": {
            name: {
                "snapstart": cold.snapstart,
                "provisioned_concurrency": cold.provisioned_concurrency,
                "memory_mb": getattr(config.functions, name).memory_mb,
            }
            for name, cold in warmed.items()
        },
    }


@lru_cache(maxsize=1)
def modelled() -> dict[str, Any]:
    """The model's figures as `make cost` last wrote them."""
    return dict(json.loads(FIGURES.read_text()))


def cost_at_rest(config: EnvironmentConfig) -> CostAtRest | None:
    """The model's figure for this configuration's shape (plus the API host's health checks),
    or None when no modelled environment has its shape."""
    figures = modelled()
    shape = shape_of(config)
    for name, env in figures["environments"].items():
        if env["shape"] != shape:
            continue
        api_host = (
            len(config.serving_regions) * figures["api_host_health_check_usd_per_region"]
            if config.api_host
            else 0.0
        )
        return CostAtRest(
            usd=env["at_rest_usd"] + api_host,
            modelled_on=name,
            by_service=env["at_rest_by_service"],
            traffic_allowance_usd=env["traffic_allowance_usd"],
            traffic_allowance=figures["traffic_allowance"],
            api_host_usd=api_host,
        )
    return None


def budget_usd(config: EnvironmentConfig) -> float | None:
    """The budget the environment gets: cdk.json's `budget_usd`, else the model's default for
    its shape, else none (preflight warns)."""
    if config.budget_usd is not None:
        return config.budget_usd
    cost = cost_at_rest(config)
    return cost.budget_default_usd if cost is not None else None

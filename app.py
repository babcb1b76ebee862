#!/usr/bin/env python3
"""squrl's CDK app: every environment in cdk.json, or only the one named by `-c env=NAME`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from squrl_config import (
    ENV_SELECTOR_KEY,
    ConfigError,
    EnvironmentConfig,
    load_config,
    select_environments,
)
from stacks.analytics_stack import AnalyticsStack, ClickShippingStack
from stacks.api_stack import ApiStack
from stacks.data_stack import DataStack
from stacks.edge_stack import EdgeStack
from stacks.observability_stack import ObservabilityStack, observe


@dataclass
class EnvironmentStacks:
    """What one environment consists of; later stacks (edge, analytics, observability) join here."""

    config: EnvironmentConfig
    data: dict[str, DataStack] = field(default_factory=dict)
    api: dict[str, ApiStack] = field(default_factory=dict)
    observability: dict[str, ObservabilityStack] = field(default_factory=dict)
    edge: EdgeStack | None = None
    analytics: AnalyticsStack | None = None
    click_shipping: dict[str, ClickShippingStack] = field(default_factory=dict)

    @property
    def home_data(self) -> DataStack:
        return self.data[self.config.home_region]


def build_environment(app: App, config: EnvironmentConfig) -> EnvironmentStacks:
    stacks = EnvironmentStacks(config=config)
    build_data_and_apis(app, config, stacks)
    if config.edge.enabled:
        stacks.edge = EdgeStack(
            app, config=config, apis=stacks.api, user_pool=stacks.home_data.user_pool
        )
        for api in stacks.api.values():
            stacks.edge.add_stack_dependency(api, "its origins are the regional APIs")
    if config.analytics.enabled:
        build_analytics(app, config, stacks)
    build_observability(app, config, stacks)
    return stacks


def build_data_and_apis(app: App, config: EnvironmentConfig, stacks: EnvironmentStacks) -> None:
    stacks.data[config.home_region] = DataStack(app, config=config)
    for region in config.serving_regions:
        api = ApiStack(app, config=config, region=region)
        # Functions (and a DAX cache) reference the table by name; the home stack creates it
        # and its replicas.
        api.add_stack_dependency(stacks.home_data, "the table and its replicas exist first")
        stacks.api[region] = api


def build_observability(app: App, config: EnvironmentConfig, stacks: EnvironmentStacks) -> None:
    observed = observe(
        config,
        [stacks.api[region].sources() for region in config.serving_regions],
        edge=stacks.edge.sources() if stacks.edge else None,
        analytics=stacks.analytics.sources() if stacks.analytics else None,
        invalidation=stacks.home_data.invalidation_sources(),
    )
    home_api = stacks.api[config.home_region]
    for region in config.serving_regions:
        observability = ObservabilityStack(
            app,
            config=config,
            region=region,
            observed=observed,
            api_url=home_api.links_api.base_url if region == config.home_region else None,
        )
        # Alarms name resources by their fixed names, not by reference; deploy them after.
        for api in stacks.api.values():
            if api.region == region or region == config.home_region:
                observability.add_stack_dependency(api, "the API and its functions exist first")
        if stacks.analytics is not None and region == config.home_region:
            observability.add_stack_dependency(stacks.analytics, "its alarms read the stream")
        if stacks.edge is not None and region == stacks.edge.region:
            observability.add_stack_dependency(stacks.edge, "its alarms read the distribution")
        stacks.observability[region] = observability


def build_analytics(app: App, config: EnvironmentConfig, stacks: EnvironmentStacks) -> None:
    """Order: api -> edge -> analytics -> click shipping (stacks/analytics_stack.py)."""
    analytics = AnalyticsStack(app, config=config)
    if stacks.edge is not None:
        analytics.add_stack_dependency(stacks.edge, "its consumer reads the edge request stream")
    for region, api in stacks.api.items():
        shipping = ClickShippingStack(app, config=config, region=region)
        shipping.add_stack_dependency(analytics, "the click stream exists first")
        shipping.add_stack_dependency(api, "the redirect's log group exists first")
        stacks.click_shipping[region] = shipping
    stacks.analytics = analytics


def add_compliance_checks(app: App) -> None:
    # Any unacknowledged finding interrupts synthesis, so `make synth` is the compliance gate.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def build_app(
    context: Mapping[str, Any] | None = None, outdir: str | None = None
) -> tuple[App, list[EnvironmentStacks]]:
    """The CDK app. Without arguments it reads context from the CDK CLI (cdk.json, -c)."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    config = load_config(app.node.get_all_context())
    selected = select_environments(config, app.node.try_get_context(ENV_SELECTOR_KEY))
    environments = [build_environment(app, env) for env in selected]
    add_compliance_checks(app)
    return app, environments


def main() -> None:
    try:
        app, _ = build_app()
    except ConfigError as exc:
        sys.exit(f"squrl: {exc}")
    app.synth()


if __name__ == "__main__":
    main()

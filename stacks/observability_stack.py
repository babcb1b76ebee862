"""Observability stack: one per serving region of every environment.

Each holds the region's dashboard, its alarms and the alarm topic they page (an alarm can only
notify a topic in its own region). The home region's stack also holds the environment's budget,
the canary, the alarms on home-only resources (replication, click stream) and, since CloudFront
publishes its metrics in us-east-1, the edge alarms when that region serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from cdk_constructs.observability.alarm_topic import AlarmTopic
from cdk_constructs.observability.alarms import RegionAlarms
from cdk_constructs.observability.budget import environment_budget
from cdk_constructs.observability.canary import LinkCanary, api_key_parameter
from cdk_constructs.observability.dashboard import RegionDashboard
from cdk_constructs.observability.sources import (
    AnalyticsSources,
    ApiSource,
    EdgeSources,
    FunctionSource,
    ObservedEnvironment,
    RegionSources,
    literal,
)
from shared.contracts import names
from shared.contracts import table as table_def
from squrl_config import EnvironmentConfig


def region_sources(config: EnvironmentConfig, region: str, api_stack: Any) -> RegionSources:
    """Read what an ApiStack exposes (`.api`, `.function_constructs`, `.waf`)."""
    functions = tuple(
        FunctionSource.of(key, construct.function, construct.log_group)
        for key, construct in sorted(api_stack.function_constructs.items())
    )
    waf = getattr(api_stack, "waf", None)
    web_acl_name = literal(waf.web_acl, "name", "") if waf is not None else ""
    return RegionSources(
        region=region,
        table_name=names.table_name(config.name),
        index_names=(table_def.DEDUP_INDEX,),
        api=ApiSource.of(api_stack.api),
        functions=functions,
        web_acl_name=web_acl_name or None,
    )


def edge_sources(edge_stack: Any | None) -> EdgeSources | None:
    """Read what an EdgeStack exposes (`.distribution`, `.edge_function`, `.waf`,
    `.request_log`)."""
    if edge_stack is None:
        return None
    distribution = getattr(edge_stack, "distribution", None)
    edge_function = getattr(edge_stack, "edge_function", None)
    function = getattr(edge_function, "function", None)
    waf = getattr(edge_stack, "waf", None)
    web_acl = getattr(waf, "web_acl", None)
    stream = getattr(getattr(edge_stack, "request_log", None), "stream", None)
    return EdgeSources(
        distribution_id=distribution.distribution_id if distribution is not None else None,
        function_name=(
            literal(function, "function_name", function.function_name) if function else None
        ),
        web_acl_name=literal(web_acl, "name", "") or None if web_acl is not None else None,
        request_stream_name=literal(stream, "name", "") or None if stream is not None else None,
    )


def observe(
    config: EnvironmentConfig,
    api_stacks: Mapping[str, Any],
    *,
    analytics: AnalyticsSources | None = None,
    edge: EdgeSources | None = None,
) -> ObservedEnvironment:
    return ObservedEnvironment(
        env_name=config.name,
        home_region=config.home_region,
        regions=tuple(
            region_sources(config, region, api_stacks[region]) for region in config.serving_regions
        ),
        analytics=analytics,
        edge=edge,
        business_metrics=analytics.business_metrics if analytics else (),
    )


class ObservabilityStack(Stack):
    """Exposes `.topic`, `.alarms` (RegionAlarms), `.dashboard` and `.canary` (or None)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        region: str,
        observed: ObservedEnvironment,
        api_url: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=region),
            description=f"squrl {config.name} dashboards and alarms in {region}",
        )
        settings = config.observability
        home = region == config.home_region
        self.topic = AlarmTopic(
            self, "AlarmTopic", env_name=config.name, email=settings.alarm_email
        ).topic

        self.canary: LinkCanary | None = None
        if home and settings.canary and api_url is not None:
            self.canary = LinkCanary(
                self,
                "LinkCanary",
                env_name=config.name,
                api_url=api_url,
                short_base_url=f"https://{config.short_domain}" if config.short_domain else "",
                parameter_name=api_key_parameter(config.name, settings.canary_api_key_parameter),
                retain=config.retain_data,
            )
        canary_name = self.canary.name if self.canary else None

        self.alarms = RegionAlarms(
            self,
            "Alarms",
            observed=observed,
            region=region,
            settings=settings,
            topic=self.topic,
            canary_name=canary_name,
        )
        self.dashboard: RegionDashboard | None = None
        if settings.dashboard:
            self.dashboard = RegionDashboard(
                self,
                "Dashboard",
                observed=observed,
                region=region,
                alarms=self.alarms.alarms,
                canary_name=canary_name,
                lambda_insights=settings.lambda_insights,
            )
        if home and config.budget_usd is not None:
            environment_budget(
                self, env_name=config.name, limit_usd=config.budget_usd, topic=self.topic
            )

        CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn)
        if self.dashboard is not None:
            CfnOutput(
                self,
                "DashboardUrl",
                value=(
                    f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                    f"#dashboards:name=squrl-{config.name}-{region}"
                ),
            )

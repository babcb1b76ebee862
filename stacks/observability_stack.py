"""Observability stack: one per serving region of every environment.

Each holds the region's dashboard, its alarms and the alarm topic they page (an alarm can only
notify a topic in its own region). The home region's stack also holds the environment's budget,
the canary, the alarms on home-only resources (replication, click stream) and, since CloudFront
publishes its metrics in us-east-1, the edge alarms when that region serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput
from constructs import Construct

from cdk_constructs.observability.alarm_topic import AlarmTopic
from cdk_constructs.observability.alarms import RegionAlarms
from cdk_constructs.observability.budget import environment_budget
from cdk_constructs.observability.canary import (
    LinkCanary,
    api_key_parameter,
    canary_api_url,
    canary_short_base_url,
)
from cdk_constructs.observability.dashboard import RegionDashboard, dashboard_name
from cdk_constructs.observability.sources import (
    AnalyticsSources,
    EdgeSources,
    InvalidationSources,
    ObservedEnvironment,
    RegionSources,
)
from squrl_config import EnvironmentConfig
from squrl_config.cost_at_rest import budget_usd
from stacks.squrl_stack import SqurlStack


def observe(
    config: EnvironmentConfig,
    regions: Sequence[RegionSources],
    *,
    analytics: AnalyticsSources | None = None,
    edge: EdgeSources | None = None,
    invalidation: InvalidationSources | None = None,
) -> ObservedEnvironment:
    """The environment as its observability stacks see it, from the stacks' `sources()`."""
    return ObservedEnvironment(
        env_name=config.name,
        home_region=config.home_region,
        regions=tuple(regions),
        analytics=analytics,
        edge=edge,
        invalidation=invalidation,
        business_metrics=analytics.business_metrics if analytics else (),
    )


class ObservabilityStack(SqurlStack):
    """Exposes `.topic`, `.alarms` (RegionAlarms), `.dashboard` and `.canary` (or None)."""

    ROLE = "observability"

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        region: str,
        observed: ObservedEnvironment,
        api_url: str | None = None,
    ) -> None:
        super().__init__(
            scope, config=config, region=region, description=f"dashboards and alarms in {region}"
        )
        settings = config.observability
        home = region == config.home_region
        alarm_topic = AlarmTopic(
            self, "AlarmTopic", env_name=config.name, email=settings.alarm_email
        )
        self.topic = alarm_topic.topic

        self.canary: LinkCanary | None = None
        if home and settings.canary and api_url is not None:
            self.canary = LinkCanary(
                self,
                "LinkCanary",
                env_name=config.name,
                api_url=canary_api_url(config, api_url),
                short_base_url=canary_short_base_url(config),
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
        # cdk.json's budget_usd, else the cost model's default for the environment's shape.
        limit_usd = budget_usd(config)
        if home and limit_usd is not None:
            budget = environment_budget(
                self, env_name=config.name, limit_usd=limit_usd, topic=self.topic
            )
            # Budgets checks that it may publish to the topic when the budget is created.
            budget.node.add_dependency(alarm_topic.policy)

        CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn)
        if self.dashboard is not None:
            CfnOutput(
                self,
                "DashboardUrl",
                value=(
                    f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                    f"#dashboards:name={dashboard_name(config.name, region)}"
                ),
            )

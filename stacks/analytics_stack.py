"""Analytics: the click stream, its counting consumer and the data lake (home region), and the
shipping of each region's redirect click lines to the stream.

Deployment order, without cycles: api -> edge -> analytics -> click shipping. The analytics
stack reads the edge's real-time log stream, so it follows the edge stack; each region's
shipping stack subscribes that region's redirect log group to the click stream, so it follows
both the analytics stack and that region's api stack.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.clicks.click_consumer import ClickConsumer
from cdk_constructs.clicks.click_lake import ClickLake
from cdk_constructs.clicks.click_log_shipping import ClickLogShipping
from cdk_constructs.core.log_retention import STREAM_RETENTION
from cdk_constructs.observability.sources import AnalyticsSources, FunctionSource
from shared.contracts import metrics, names
from shared.contracts.names import EDGE_LOG_STREAM_REGION
from squrl_config import ConfigError, EnvironmentConfig
from stacks.squrl_stack import SqurlStack


class AnalyticsStack(SqurlStack):
    """Exposes `.stream`, `.consumer` (ClickConsumer) and `.lake` (ClickLake)."""

    ROLE = "analytics"

    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        home = config.home_region
        super().__init__(
            scope, config=config, region=home, description=f"click analytics in {home}"
        )
        self.stream = kinesis.Stream(
            self,
            "Clicks",
            stream_name=names.click_stream_name(config.name),
            shard_count=config.analytics.stream_shards,
            retention_period=STREAM_RETENTION,
            # The AWS managed key: producers (CloudWatch Logs) need no key grants.
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        streams: dict[str, kinesis.IStream] = {"regional": self.stream}
        if config.edge.enabled:
            if config.home_region == EDGE_LOG_STREAM_REGION:
                streams["edge"] = kinesis.Stream.from_stream_arn(
                    self,
                    "EdgeRequests",
                    self.format_arn(
                        service="kinesis",
                        resource="stream",
                        resource_name=names.edge_log_stream_name(config.name),
                    ),
                )
            else:
                # An event source mapping reads only streams in its own region; refusing the
                # configuration beats deploying an environment that never counts edge clicks.
                raise ConfigError(
                    f"{config.name}: edge clicks arrive in {EDGE_LOG_STREAM_REGION}, but the "
                    f"analytics consumer runs in home_region {config.home_region}; "
                    "see docs/analytics.md"
                )
        self.consumer = ClickConsumer(
            self, "Consumer", config=config, streams=list(streams.values())
        )
        self.lake = ClickLake(self, "Lake", config=config, streams=streams)

        CfnOutput(self, "ClickStreamName", value=self.stream.stream_name)
        CfnOutput(self, "DeadLetterQueueUrl", value=self.consumer.dead_letter_queue.queue_url)
        CfnOutput(self, "LakeBucket", value=self.lake.bucket.bucket_name)
        CfnOutput(self, "AthenaWorkGroup", value=self.lake.workgroup.name)

    def sources(self) -> AnalyticsSources:
        """What the home region's observability watches of the click pipeline."""
        consumer = self.consumer.function_construct
        delivery = self.lake.delivery_streams["regional"]
        return AnalyticsSources(
            stream_name=names.click_stream_name(self.config.name),
            consumer=FunctionSource.of("click_consumer", consumer.function, consumer.log_group),
            dead_letter_queue_names=(names.dead_letter_queue_name(self.config.name),),
            delivery_stream_name=delivery.delivery_stream_name,
            lake_delivery_stream_names=tuple(
                str(stream.delivery_stream_name) for stream in self.lake.delivery_streams.values()
            ),
            business_metrics=metrics.CLICK_BUSINESS_METRICS,
        )


class ClickShippingStack(SqurlStack):
    """One per serving region: that region's redirect click lines -> the click stream."""

    ROLE = "clicks"

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, region: str) -> None:
        super().__init__(
            scope, config=config, region=region, description=f"click shipping from {region}"
        )
        log_group = logs.LogGroup.from_log_group_name(
            self, "RedirectLogs", names.function_log_group_name(config.name, "redirect")
        )
        self.shipping = ClickLogShipping(
            self,
            "Shipping",
            log_group=log_group,
            env_name=config.name,
            home_region=config.home_region,
        )

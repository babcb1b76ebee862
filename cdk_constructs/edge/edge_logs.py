"""CloudFront real-time logs into a us-east-1 Kinesis stream: the edge's click hand-off.

The stream is the hand-off point to the analytics consumer (docs/edge.md): every answered
request, cache hits included, as one tab-separated record of
shared.contracts.edge_log_fields.FIELDS. No client IP is ever in it; the consumer reduces the user
agent (to a device class and a bot flag: without it every click would count as a human one) and
the referrer (to its host) before storing, and the stream keeps records for Kinesis's minimum,
24 hours. The edge stack builds it only where the analytics stack reads it.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from cdk_constructs.core.log_retention import STREAM_RETENTION
from shared.contracts.edge_log_fields import FIELDS
from shared.contracts.names import edge_log_stream_name


class EdgeRequestLog(Construct):
    """Exposes `.stream` and `.stream_name` (what the consumer reads) and `.config` (what
    behaviours attach)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        shards: int | None,
        sampling_percent: int,
    ) -> None:
        """`shards=None` makes an on-demand stream. Each request is one record, cache hits
        included, and a provisioned shard takes 1,000 records a second: a busier distribution
        than `shards` x 1,000 requests a second would have records refused, and those clicks
        lost (the edge-log-throttled alarm says when)."""
        super().__init__(scope, construct_id)
        self.stream_name = edge_log_stream_name(env_name)
        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_name=self.stream_name,
            stream_mode=(
                kinesis.StreamMode.ON_DEMAND if shards is None else kinesis.StreamMode.PROVISIONED
            ),
            shard_count=shards,
            # The AWS-managed key: CloudFront's delivery role needs no KMS grant for it.
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=STREAM_RETENTION,
            # Deleted with the stack: its records are a day's hand-off, not data, and a kept
            # stream of this fixed name would make the next deploy fail with "already exists".
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal("cloudfront.amazonaws.com"),
            description=f"CloudFront real-time logs of squrl {env_name} into its Kinesis stream",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "kinesis:DescribeStreamSummary",
                    "kinesis:DescribeStream",
                    "kinesis:PutRecord",
                    "kinesis:PutRecords",
                ],
                resources=[self.stream.stream_arn],
            )
        )
        self.config = cloudfront.RealtimeLogConfig(
            self,
            "Config",
            realtime_log_config_name=f"squrl-{env_name}-edge-requests",
            end_points=[cloudfront.Endpoint.from_kinesis_stream(self.stream, self.role)],
            fields=list(FIELDS),
            sampling_rate=sampling_percent,
        )
        # CloudFront checks that the role may write to the stream when the config is created.
        self.config.node.add_dependency(self.role)

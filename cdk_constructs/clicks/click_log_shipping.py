"""Ship the redirect's click lines from CloudWatch Logs to the click stream.

The redirect writes one JSON line per click to stdout (shared/clicks/producer.py); a
subscription filter selects those lines and CloudWatch Logs puts them on the stream in gzip
batches. In the home region the filter targets the stream directly, spreading batches over shards
at random. A log group can only subscribe to a stream in its own region, so other regions go
through a CloudWatch Logs destination in their region that forwards to the home region's stream.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as destinations
from constructs import Construct

from shared.contracts import names
from shared.contracts.clicks import SUBSCRIPTION_FILTER_PATTERN


def click_stream_arn(scope: Construct, env_name: str, home_region: str) -> str:
    """The stream's ARN as a literal: its name is fixed, so no cross-region reference is needed."""
    return Stack.of(scope).format_arn(
        service="kinesis",
        region=home_region,
        resource="stream",
        resource_name=names.click_stream_name(env_name),
    )


class ClickLogShipping(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        env_name: str,
        home_region: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        stream_arn = click_stream_arn(self, env_name, home_region)
        pattern = logs.FilterPattern.literal(SUBSCRIPTION_FILTER_PATTERN)
        if stack.region == home_region:
            stream = kinesis.Stream.from_stream_arn(self, "Stream", stream_arn)
            self.filter = logs.SubscriptionFilter(
                self,
                "ClickLines",
                log_group=log_group,
                destination=destinations.KinesisDestination(stream),
                filter_pattern=pattern,
                # A viral link's clicks arrive from a few log streams; random distribution
                # spreads them over every shard instead of one per log stream.
                distribution=logs.Distribution.RANDOM,
            )
            return
        role = iam.Role(
            self,
            "ForwardRole",
            assumed_by=iam.ServicePrincipal(
                "logs.amazonaws.com",
                conditions={
                    "StringLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:"
                        f"{stack.account}:*"
                    }
                },
            ),
            description="CloudWatch Logs forwards click lines to the home region's click stream",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=[stream_arn])
        )
        destination_name = f"squrl-{env_name}-clicks-{stack.region}"
        destination = logs.CrossAccountDestination(
            self,
            "Destination",
            destination_name=destination_name,
            role=role,
            target_arn=stream_arn,
        )
        destination.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:PutSubscriptionFilter"],
                principals=[iam.AccountRootPrincipal()],
                # A literal: the destination's own ARN attribute would make it depend on itself.
                resources=[
                    f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:"
                    f"destination:{destination_name}"
                ],
            )
        )
        self.filter = logs.SubscriptionFilter(
            self,
            "ClickLines",
            log_group=log_group,
            destination=destination,
            filter_pattern=pattern,
        )
        self.filter.node.add_dependency(destination)
        # CloudWatch Logs checks that the role may put records on the stream when the
        # destination is created; the role's policy is a resource of its own.
        destination.node.add_dependency(role)

"""The invalidator: the links table's stream -> Lambda -> CloudFront invalidations of changed codes.

It lives beside the stream (the data stack, home region): an event source mapping reads only a
stream in its own region. The distribution is in the edge stack (us-east-1), deployed after the
data stack (data -> api -> edge), so the data stack cannot reference it without a cycle; the
edge stack writes the distribution id to an SSM parameter of a fixed name, which the function
reads at run time, and its CreateInvalidation permission names distributions by the
environment's tag, which the edge stack carries. docs/edge.md, "Freshness after a change".
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.dead_letter_queue import dead_letter_queue
from cdk_constructs.core.squrl_function import SqurlFunction
from shared.contracts import names
from squrl_config import EnvironmentConfig, FunctionSettings

# One invalidation per batch: a batch of this many records holds at most this many codes, so with
# the default 100-path cap a busy stream falls back to `/*` rather than to many invalidations.
BATCH_SIZE = 1000
BATCHING_WINDOW = Duration.seconds(5)
RETRY_ATTEMPTS = 5
# A change older than this is no longer worth an invalidation (every cached answer but a
# permanent redirect's has expired by itself); the batch goes to the queue instead.
MAX_RECORD_AGE = Duration.hours(1)
# The edge function's lookup memory (30 s) plus 5 s for replication lag and the stream record
# time's rounding: the invalidator waits this long after the newest change (docs/edge.md).
EDGE_MEMORY_SECONDS = 35
# Up to 35 s waiting out the edge function's memory, then CloudFront's API with retries. Above
# the API functions' 29 s bound, which FunctionSettings enforces for them: built unvalidated.
INVALIDATOR_SETTINGS = FunctionSettings.model_construct(memory_mb=256, timeout_seconds=90)
TAG_KEY = "squrl:environment"


class Invalidator(Construct):
    """Exposes `.function`, `.function_construct`, `.dead_letter_queue` and `.event_source`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        table: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.dead_letter_queue = dead_letter_queue(
            self,
            queue_name=names.invalidation_dead_letter_queue_name(config.name),
            holds="the invalidator's on-failure destination",
        )
        parameter = names.distribution_id_parameter(config.name)
        self.function_construct = SqurlFunction(
            self,
            "Invalidator",
            name="invalidator",
            config=config,
            settings=INVALIDATOR_SETTINGS,
            environment={
                "SQURL_DISTRIBUTION_ID_PARAMETER": parameter,
                "SQURL_DISTRIBUTION_ID_REGION": names.CLOUDFRONT_REGION,
                "SQURL_INVALIDATION_MAX_PATHS": str(config.edge.invalidation_max_paths),
                "SQURL_EDGE_MEMORY_SECONDS": str(EDGE_MEMORY_SECONDS),
            },
            description="Invalidates the CloudFront paths of links whose redirect changed",
        )
        self.function: lambda_.Function = self.function_construct.function
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[
                    stack.format_arn(
                        service="ssm",
                        region=names.CLOUDFRONT_REGION,
                        resource="parameter",
                        resource_name=parameter.lstrip("/"),
                    )
                ],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudfront:CreateInvalidation"],
                resources=[
                    stack.format_arn(
                        service="cloudfront",
                        region="",
                        resource="distribution",
                        resource_name="*",
                    )
                ],
                conditions={"StringEquals": {f"aws:ResourceTag/{TAG_KEY}": config.name}},
            )
        )
        # cdk-nag names the account as the template has it: a literal, or the pseudo parameter.
        account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
        role = self.function_construct.role
        assert role is not None
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudfront::{account}:"
            "distribution/*]",
            "The distribution is created later, in the edge stack (us-east-1), so its id is "
            "unknown here; the statement is limited to distributions tagged with this "
            "environment (squrl:environment), which only its edge stack's distribution is.",
        )
        self.event_source = sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=BATCH_SIZE,
            max_batching_window=BATCHING_WINDOW,
            parallelization_factor=1,
            bisect_batch_on_error=True,
            retry_attempts=RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            on_failure=sources.SqsDlq(self.dead_letter_queue),
        )
        self.function.add_event_source(self.event_source)

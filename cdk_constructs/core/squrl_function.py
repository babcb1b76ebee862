"""The one way squrl builds a Lambda function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.core.bundling import RUNTIME, function_asset
from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.log_retention import log_retention
from shared.contracts import metrics, names
from squrl_config import EnvironmentConfig, FunctionSettings
from squrl_config.models import ColdStart

# The alias a published function is invoked through (cold_starts in cdk.json).
LIVE_ALIAS = "live"
_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


class SqurlFunction(Construct):
    """A bundled function from `functions/<name>` with squrl's defaults.

    Defaults: python3.13 on the environment's architecture, X-Ray active tracing, a log group
    with the environment's retention, Powertools settings, and the environment's log level.
    Callers add permissions with `grant`-style statements on `.function`; nothing is granted here
    beyond logging and tracing.

    With SnapStart or provisioned concurrency on for `name` in the environment's `cold_starts`,
    every deploy publishes a version and moves the alias `live` to it (`.alias`); whatever
    invokes the function should invoke `.invoke_target`, which is the alias then and the
    function otherwise. Versions the alias left are deleted, so an old SnapStart snapshot is not
    cached (and billed) on.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        config: EnvironmentConfig,
        settings: FunctionSettings,
        environment: Mapping[str, str],
        description: str,
        vpc: ec2.IVpc | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        runtime_json_logs: bool = False,
        features: frozenset[str] = frozenset(),
    ) -> None:
        """`runtime_json_logs` turns on Lambda's own JSON log format, for a function without
        Powertools: the runtime then writes its errors and the `logging` module's records as
        JSON, while lines the code writes to stdout itself (the click lines) stay as written."""
        super().__init__(scope, construct_id)
        # `features` adds optional dependencies to the bundle (functions/<name>/requirements-*.txt).
        asset = function_asset(name, config.architecture, features)
        function_name = names.function_name(config.name, name)

        # Deleted with the function even where data is retained: a kept group of this fixed
        # name would make the next deploy of the stack fail with "already exists".
        cold_start = config.cold_starts.get(name, ColdStart())
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=names.function_log_group_name(config.name, name),
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=_ARCHITECTURES[config.architecture],
            handler=asset.handler,
            code=asset.code(),
            memory_size=settings.memory_mb,
            timeout=Duration.seconds(settings.timeout_seconds),
            reserved_concurrent_executions=config.concurrency.reserved.get(name),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            # The application log level stays at Lambda's default, INFO: in the JSON format
            # Lambda reads a JSON line without a `level` (a click line) as INFO, so a WARN or
            # ERROR level would filter out every click.
            logging_format=lambda_.LoggingFormat.JSON if runtime_json_logs else None,
            insights_version=(
                lambda_.LambdaInsightsVersion.VERSION_1_0_333_0
                if config.observability.lambda_insights
                else None
            ),
            environment={
                "POWERTOOLS_SERVICE_NAME": metrics.SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": metrics.NAMESPACE,
                "LOG_LEVEL": config.log_level,
                "SQURL_ENV": config.name,
                **environment,
            },
            vpc=vpc,
            vpc_subnets=(
                ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED) if vpc else None
            ),
            security_groups=list(security_groups) if security_groups else None,
            snap_start=(
                lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if cold_start.snapstart else None
            ),
            current_version_options=(
                lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY)
                if cold_start.published
                else None
            ),
        )
        self.alias: lambda_.Alias | None = None
        self.invoke_target: lambda_.IFunction = self.function
        if cold_start.published:
            self.alias = lambda_.Alias(
                self,
                "Live",
                alias_name=LIVE_ALIAS,
                version=self.function.current_version,
                provisioned_concurrent_executions=cold_start.provisioned_concurrency or None,
            )
            self.invoke_target = self.alias
            if cold_start.snapstart:
                Annotations.of(self.function).acknowledge_warning(
                    "@aws-cdk/aws-lambda:snapStartRequirePublish",
                    "The alias above publishes the current version on every deploy.",
                )
        self.role = self.function.role
        assert self.role is not None

        managed = ["service-role/AWSLambdaBasicExecutionRole"]
        if vpc is not None:
            managed.append("service-role/AWSLambdaVPCAccessExecutionRole")
        if config.observability.lambda_insights:
            managed.append("CloudWatchLambdaInsightsExecutionRolePolicy")
        for policy in managed:
            acknowledge(
                self.role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]",
                "AWS-maintained Lambda execution policy: log writes (plus ENI management for "
                "VPC functions, metrics for Lambda Insights); a hand-written copy would hold the "
                "same statements with more upkeep.",
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions; '*' is the only valid resource.",
        )
        if RUNTIME.name != lambda_.Runtime.PYTHON_3_14.name:
            acknowledge(
                self.function,
                "AwsSolutions-L1",
                "python3.13 is squrl's pinned runtime: the bundler installs cp313 wheels and the "
                "local server and tests run on 3.13.",
            )

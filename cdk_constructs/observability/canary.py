"""A CloudWatch Synthetics canary that creates a link and follows it, every 5 minutes."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from cdk_constructs.core.bundling import FUNCTIONS_DIR
from cdk_constructs.core.compliance import acknowledge
from squrl_config import EnvironmentConfig

# Inlined as the canary's index.py: standard library and boto3 only (functions/canary).
SCRIPT = FUNCTIONS_DIR / "canary" / "handler.py"
RUNTIME = synthetics.Runtime.SYNTHETICS_PYTHON_SELENIUM_7_0
# IANA reserves example.com for documentation; squrl's URL rules accept it and nobody is
# harmed when a redirect to it is followed.
TARGET_URL = "https://example.com/squrl-canary"
# Synthetics canary names: at most 21 characters of [0-9a-z_-].
MAX_NAME_LENGTH = 21


def canary_name(env_name: str) -> str:
    return f"squrl-{env_name}-e2e"[:MAX_NAME_LENGTH].rstrip("-")


def api_key_parameter(env_name: str, configured: str | None) -> str:
    return configured or f"/squrl/{env_name}/canary-api-key"


def canary_api_url(config: EnvironmentConfig, stage_url: str) -> str:
    """Where the canary creates links: the host clients use, `api.<short domain>` when squrl
    routes it, else the home region's stage URL."""
    return f"https://{config.api_host}" if config.api_host else stage_url


def canary_short_base_url(config: EnvironmentConfig) -> str:
    """Where the canary follows them: the configured short domain, or, without one, empty, so
    the canary follows the `short_url` that the create answered (the regional API's stage)."""
    return f"https://{config.short_domain}" if config.short_domain else ""


class LinkCanary(Construct):
    """Runs functions/canary/handler.py against the environment's API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        api_url: str,
        short_base_url: str,
        parameter_name: str,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = canary_name(env_name)
        self.parameter_name = parameter_name
        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(30))],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.artifacts,
            "AwsSolutions-S1",
            "Holds only the canary's own screenshots and logs, expired after 30 days; access "
            "logs for it would record nothing but the canary's writes.",
        )
        self.canary = synthetics.Canary(
            self,
            "Canary",
            canary_name=self.name,
            runtime=RUNTIME,
            test=synthetics.Test.custom(
                code=synthetics.Code.from_inline(SCRIPT.read_text()), handler="index.handler"
            ),
            schedule=synthetics.Schedule.rate(Duration.minutes(5)),
            timeout=Duration.minutes(1),
            artifacts_bucket_location=synthetics.ArtifactsBucketLocation(bucket=self.artifacts),
            environment_variables={
                "API_URL": api_url,
                "API_KEY_PARAMETER": parameter_name,
                "SHORT_BASE_URL": short_base_url,
                "TARGET_URL": TARGET_URL,
            },
            provisioned_resource_cleanup=True,
            success_retention_period=Duration.days(7),
            failure_retention_period=Duration.days(30),
        )
        stack = Stack.of(self)
        artifacts = self.artifacts.node.default_child
        assert isinstance(artifacts, s3.CfnBucket)
        role = self.canary.role
        for detail, reason in (
            (
                "Resource::*",
                "The Synthetics runtime calls s3:ListAllMyBuckets and cloudwatch:PutMetricData "
                "(limited by condition to the CloudWatchSynthetics namespace); neither action "
                "supports a resource ARN.",
            ),
            (
                f"Resource::<{stack.get_logical_id(artifacts)}.Arn>/*",
                "The canary writes each run's screenshots and logs under new keys in its own "
                "artifacts bucket; the bucket is the boundary.",
            ),
            (
                f"Resource::arn:<AWS::Partition>:logs:{stack.region}:{stack.account}:"
                "log-group:/aws/lambda/cwsyn-*",
                "Synthetics names the canary's function cwsyn-<canary>-<random id> at deploy "
                "time, so its log group can only be matched by prefix.",
            ),
        ):
            acknowledge(role, f"AwsSolutions-IAM5[{detail}]", reason)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[
                    Stack.of(self).format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=parameter_name.lstrip("/"),
                    )
                ],
            )
        )

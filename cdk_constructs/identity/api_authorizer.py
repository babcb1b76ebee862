"""The Lambda REQUEST authorizer of a regional API (docs/identity.md, "In AWS").

Design: no identity sources and no API Gateway result cache. A REQUEST authorizer with identity
sources is skipped with a 401 when one of them is missing, and squrl's callers send either
`Authorization` or `x-api-key`, never both necessarily; with none, API Gateway runs it on every
request and it sees both headers. The cache the spec allows (<= 300 s) is the function's own:
a looked-up token is trusted for `identity.token_cache_seconds`; JWTs are checked locally
against the cached JWKS. The API's key source is AUTHORIZER: the function answers the caller's
x-api-key as the usage key (API Gateway still checks it), or the bearer usage key.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_constructs.core.links_table import replica_arn
from cdk_constructs.core.squrl_function import SqurlFunction
from cdk_constructs.identity.user_pool import pool_parameter_name
from squrl_config import EnvironmentConfig


def pool_parameter_arn(scope: Construct, config: EnvironmentConfig) -> str:
    return Stack.of(scope).format_arn(
        service="ssm",
        region=config.home_region,
        resource="parameter",
        resource_name=pool_parameter_name(config.name).lstrip("/"),
    )


def identity_environment(config: EnvironmentConfig) -> dict[str, str]:
    """What the authorizer and the identity function read (shared/identity/config.py)."""
    return {
        "SQURL_USER_POOL_PARAMETER": pool_parameter_name(config.name),
        "SQURL_USER_POOL_REGION": config.home_region,
        "SQURL_AUTH_CACHE_SECONDS": str(config.identity.token_cache_seconds),
    }


class ApiAuthorizer(Construct):
    """Exposes `.function_construct`, `.function` and `.authorizer`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        region: str,
        table_name: str,
        environment: Mapping[str, str],
        bearer_key: apigw.IApiKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function_construct = SqurlFunction(
            self,
            "Function",
            name="authorizer",
            config=config,
            settings=config.functions.authorizer,
            environment={
                **environment,
                **identity_environment(config),
                "SQURL_BEARER_USAGE_KEY_ID": bearer_key.key_id,
            },
            description="Lambda REQUEST authorizer: personal tokens, Cognito JWTs, API keys",
            runtime_json_logs=True,
        )
        self.function = self.function_construct.function
        arn = replica_arn(self, table_name, region)
        # Reads a token by its key and records its use, on the local replica, token items only.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["token#*"]}},
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["apigateway:GET"],
                resources=[
                    Stack.of(self).format_arn(
                        service="apigateway",
                        account="",
                        resource="/apikeys",
                        resource_name=bearer_key.key_id,
                    )
                ],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"], resources=[pool_parameter_arn(self, config)]
            )
        )
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "Authorizer",
            handler=self.function,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
            authorizer_name=f"squrl-{config.name}-authorizer",
        )

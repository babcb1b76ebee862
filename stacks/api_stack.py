"""API stack: the regional REST API, its functions, its WAF and, when enabled, its DAX cache."""

from __future__ import annotations

import json

from aws_cdk import CfnOutput
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.api.api_host import RegionalApiHost
from cdk_constructs.api.links_api import LinksApi
from cdk_constructs.api.regional_waf import RegionalWaf
from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.dax_cache import DaxCache, cache_zones
from cdk_constructs.core.links_table import (
    change_statements,
    owner_read_statements,
    read_statement,
    replica_arn,
    write_statements,
)
from cdk_constructs.core.squrl_function import SqurlFunction
from cdk_constructs.identity.api_authorizer import (
    ApiAuthorizer,
    identity_environment,
    pool_parameter_arn,
)
from cdk_constructs.imports.import_pipeline import (
    ImportPipeline,
    api_statements,
    import_bucket_name,
)
from cdk_constructs.observability.sources import ApiSource, FunctionSource, RegionSources
from shared.contracts import names
from shared.contracts import table as table_def
from squrl_config import EnvironmentConfig
from stacks.squrl_stack import SqurlStack


class ApiStack(SqurlStack):
    """One per serving region. Exposes `.api`, `.functions`, `.table` (the local replica) and
    `.dax` (the region's cache, or None).

    The DAX cache is here, next to the redirect that uses it, not in a data stack: its endpoint,
    ARN, subnets and security group are then plain references inside one stack, and turning DAX
    on or off or changing its node type is one update of this stack (docs/deploy.md, DAX).
    """

    ROLE = "api"

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, region: str) -> None:
        super().__init__(scope, config=config, region=region, description=f"API in {region}")
        table_name = names.table_name(config.name)
        self.dax: DaxCache | None = None
        if config.dax.enabled:
            self.dax = DaxCache(
                self,
                "Cache",
                env_name=config.name,
                settings=config.dax,
                table_name=table_name,
                region=region,
                log_retention_days=config.log_retention_days,
            )
        dax = self.dax
        self.table = dynamodb.TableV2.from_table_attributes(
            self,
            "LocalReplica",
            table_arn=replica_arn(self, table_name, region),
            global_indexes=[table_def.DEDUP_INDEX, table_def.OWNER_INDEX],
        )

        self.links_api = LinksApi(
            self,
            "Api",
            env_name=config.name,
            # With the web app's origin (the short domain) allowed too.
            settings=config.api.model_copy(
                update={"cors_allowed_origins": config.cors_allowed_origins}
            ),
            log_retention_days=config.log_retention_days,
            retain=config.retain_data,
        )
        self.api = self.links_api.rest_api

        # Without a short domain, links point at this region's API stage, which serves
        # GET /{code} itself. The distribution's own *.cloudfront.net name cannot be used: the
        # edge stack depends on these APIs (its origins), so this stack cannot read its output.
        # Set `short_domain` to put every returned link behind the edge (docs/deploy.md).
        short_base_url = (
            f"https://{config.short_domain}" if config.short_domain else self.links_api.base_url
        )
        # With a hosted zone, clients reach every region's API as `api.<short domain>`.
        self.api_host: RegionalApiHost | None = None
        if config.api_host and config.domain.hosted_zone_id:
            self.api_host = RegionalApiHost(
                self,
                "ApiHost",
                host=config.api_host,
                hosted_zone_id=config.domain.hosted_zone_id,
                links_api=self.links_api,
            )
        own_hosts = [h for h in (config.short_domain, config.api_host, self.links_api.host) if h]
        common_env = {
            "SQURL_TABLE_NAME": table_name,
            "SQURL_HOME_REGION": config.home_region,
            "SQURL_SHORT_BASE_URL": short_base_url,
            "SQURL_OWN_HOSTS": ",".join(own_hosts),
            "SQURL_BLOCKLIST": ",".join(config.blocklist),
            "SQURL_CODE_LENGTH": str(config.code_length),
            # Non-empty turns on the redirect's click lines, which the click shipping stack
            # forwards to this stream (stacks/analytics_stack.py).
            "SQURL_CLICK_STREAM": (
                names.click_stream_name(config.name) if config.analytics.enabled else ""
            ),
            "SQURL_CORS_ORIGINS": ",".join(config.cors_allowed_origins),
            # Migration (docs/identity.md): API key ids that act as users.
            "SQURL_KEY_OWNERS": json.dumps(config.identity.key_owners, sort_keys=True),
        }
        create_url = SqurlFunction(
            self,
            "CreateUrl",
            name="create_url",
            config=config,
            settings=config.functions.create_url,
            environment=common_env,
            description="POST /urls: validate, deduplicate and store a link in the home region",
        )
        for statement in write_statements(self, table_name, config.home_region):
            create_url.function.add_to_role_policy(statement)

        get_url = SqurlFunction(
            self,
            "GetUrl",
            name="get_url",
            config=config,
            settings=config.functions.get_url,
            environment=common_env,
            description="GET /urls, /urls/{code}, its stats and history: the owner's reads",
        )
        for statement in owner_read_statements(self, table_name, region):
            get_url.function.add_to_role_policy(statement)

        update_url = SqurlFunction(
            self,
            "UpdateUrl",
            name="update_url",
            config=config,
            settings=config.functions.update_url,
            environment=common_env,
            description="PATCH and DELETE /urls/{code}: change or tombstone a link, home region",
        )
        for statement in change_statements(self, table_name, config.home_region):
            update_url.function.add_to_role_policy(statement)

        redirect = SqurlFunction(
            self,
            "Redirect",
            name="redirect",
            config=config,
            settings=config.functions.redirect,
            environment={**common_env, "SQURL_DAX_ENDPOINT": dax.endpoint if dax else ""},
            description="GET/HEAD /{code} and /health: redirect from the local replica",
            vpc=dax.vpc if dax else None,
            security_groups=[dax.client_security_group] if dax else None,
            # No Powertools on the hot path: the runtime's own JSON format structures its logs.
            runtime_json_logs=True,
            # The DAX client only in the bundles of regions that use it (bundles by need).
            features=frozenset({"dax"}) if dax else frozenset(),
        )
        redirect.function.add_to_role_policy(read_statement(self, table_name, region))
        if dax is not None:
            # The redirect's only call through DAX is the GetItem of shared/redirect/answer.py.
            redirect.function.add_to_role_policy(
                iam.PolicyStatement(actions=["dax:GetItem"], resources=[dax.cluster_arn])
            )

        identity = self._identity_function(config, common_env, table_name)
        self.authorizer = ApiAuthorizer(
            self,
            "Authorizer",
            config=config,
            region=region,
            table_name=table_name,
            environment=common_env,
            bearer_key=self.links_api.bearer_key,
        )
        import_functions = self._import_jobs(config, region, table_name, common_env)

        self.function_constructs = {
            "create_url": create_url,
            "get_url": get_url,
            "update_url": update_url,
            "redirect": redirect,
            "identity": identity,
            "authorizer": self.authorizer.function_construct,
            **import_functions,
        }
        self.functions: dict[str, lambda_.Function] = {
            name: construct.function for name, construct in self.function_constructs.items()
        }
        # The alias where cold_starts publishes versions, the function otherwise; every
        # authenticated route behind the authorizer.
        self.links_api.add_routes(
            {
                name: construct.invoke_target
                for name, construct in self.function_constructs.items()
                if name != "authorizer"
            },
            self.authorizer.authorizer,
        )

        stage = self.api.deployment_stage
        self.waf: RegionalWaf | None = None
        if config.waf.enabled:
            self.waf = RegionalWaf(
                self,
                "Waf",
                name=f"squrl-{config.name}-api",
                settings=config.waf,
                resource_arn=stage.stage_arn,
            )
            # The stage's ARN is built from names, so nothing else makes the association wait
            # for the stage to exist.
            self.waf.association.node.add_dependency(stage)
        else:
            acknowledge(
                stage,
                "AwsSolutions-APIG3",
                f"waf.enabled is false for {config.name} in cdk.json: a cost decision for an "
                "environment without public traffic.",
            )

        CfnOutput(self, "ApiUrl", value=self.links_api.base_url)
        CfnOutput(self, "ApiKeyId", value=self.links_api.api_key.key_id)
        CfnOutput(self, "ShortBaseUrl", value=short_base_url)
        if config.api_host:
            CfnOutput(self, "ApiHostUrl", value=f"https://{config.api_host}")

    def _identity_function(
        self, config: EnvironmentConfig, common_env: dict[str, str], table_name: str
    ) -> SqurlFunction:
        """/tokens and /me (docs/identity.md): tokens and the account, in the home region."""
        identity = SqurlFunction(
            self,
            "Identity",
            name="identity",
            config=config,
            settings=config.functions.identity,
            environment={**common_env, **identity_environment(config)},
            description="/tokens and /me: personal tokens, the export and erasure of an account",
        )
        arn = replica_arn(self, table_name, config.home_region)
        statements = [
            # Tokens (put, revoke, list), the account's links (read, tombstone, history) and
            # their stats (deleted with a link): one item at a time or in transactions.
            iam.PolicyStatement(
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ],
                resources=[arn],
            ),
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{arn}/index/{table_def.OWNER_INDEX}"]
            ),
            iam.PolicyStatement(
                actions=["ssm:GetParameter"], resources=[pool_parameter_arn(self, config)]
            ),
            # DELETE /me removes the Cognito user; the pool's id is only known in the home
            # region at deploy time, so the pool is named by the account's pools there.
            iam.PolicyStatement(
                actions=["cognito-idp:ListUsers", "cognito-idp:AdminDeleteUser"],
                resources=[
                    self.format_arn(
                        service="cognito-idp",
                        region=config.home_region,
                        resource="userpool",
                        resource_name="*",
                    )
                ],
            ),
        ]
        for statement in statements:
            identity.function.add_to_role_policy(statement)
        acknowledge(
            identity.function.role or identity.function,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cognito-idp:"
            f"{config.home_region}:{config.account}:userpool/*]",
            "The user pool lives in the home region's data stack; its id cannot be referenced "
            "from every region's API stack, so erasure may act on the account's pools there, "
            "for two user-management actions only.",
        )
        return identity

    def _import_jobs(
        self, config: EnvironmentConfig, region: str, table_name: str, common_env: dict[str, str]
    ) -> dict[str, SqurlFunction]:
        """Import jobs (docs/imports.md): the route in every region, writing the job to the home
        region and pre-signing uploads into the home region's bucket; the bucket, the worker and
        its state machine only in the home region."""
        bucket_name = import_bucket_name(self, config.name, config.home_region)
        imports = SqurlFunction(
            self,
            "Imports",
            name="imports",
            config=config,
            settings=config.functions.imports,
            environment={
                **common_env,
                "SQURL_IMPORT_BUCKET": bucket_name,
                "SQURL_IMPORT_URL_SECONDS": str(config.imports.url_seconds),
            },
            description="POST /imports and GET /imports/{id}: import jobs and their upload URLs",
        )
        for statement in api_statements(
            self, table_name=table_name, home_region=config.home_region, bucket_name=bucket_name
        ):
            imports.function.add_to_role_policy(statement)
        acknowledge(
            imports.function,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket_name}/uploads/*]",
            "The function pre-signs one PUT per job, each to its own key under uploads/ of the "
            "home region's import bucket; it writes nothing itself.",
        )
        self.imports: ImportPipeline | None = None
        if region != config.home_region:
            return {"imports": imports}
        self.imports = ImportPipeline(
            self,
            "ImportJobs",
            config=config,
            environment=common_env,
            cors_origins=config.cors_allowed_origins,
        )
        return {"imports": imports, "import_worker": self.imports.worker}

    @property
    def availability_zones(self) -> list[str]:
        # Overrides the credentialed lookup so that synth stays offline.
        return cache_zones()

    def sources(self) -> RegionSources:
        """What this region's observability watches: its API, functions, replica and WAF."""
        return RegionSources(
            region=self.region,
            table_name=names.table_name(self.config.name),
            index_names=(table_def.DEDUP_INDEX,),
            api=ApiSource.of(self.api),
            functions=tuple(
                FunctionSource.of(key, construct.function, construct.log_group)
                for key, construct in sorted(self.function_constructs.items())
            ),
            web_acl_name=self.waf.name if self.waf is not None else None,
        )

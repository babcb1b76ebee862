"""Edge stack: one per environment, in us-east-1 (CloudFront's region). docs/edge.md explains it.

CloudFront (WAF; a viewer-request function reduces Accept to x-squrl-format, and the cache key is
the path plus that header) -> Lambda@Edge origin request reading the nearest replica
-> on a read failure, the origin group: the home region's API, failing over to the serving region
nearest to it. Real-time logs go to a us-east-1 Kinesis stream for the click consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, CfnOutput, Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.edge.domain import ShortDomain
from cdk_constructs.edge.edge_format import EdgeFormatFunction
from cdk_constructs.edge.edge_function import EdgeRedirectFunction
from cdk_constructs.edge.edge_logs import EdgeRequestLog
from cdk_constructs.edge.edge_waf import EdgeWaf
from cdk_constructs.identity.user_pool import OAUTH_SCOPE_NAMES, SqurlUserPool
from cdk_constructs.observability.sources import EdgeSources
from cdk_constructs.web.web_app import WebApp
from shared.contracts import names, web
from shared.contracts.http import (
    FAILOVER,
    FORMAT_HEADER,
    MAX_PERMANENT_AGE,
    ORIGIN_ROLE_HEADER,
    PRIMARY,
)
from shared.redirect.edge_config import EdgeBundleConfig
from shared.redirect.edge_regions import nearest_region, nearest_replica_map
from squrl_config import EnvironmentConfig
from stacks.api_stack import ApiStack
from stacks.squrl_stack import SqurlStack

FAILOVER_STATUS_CODES = (500, 502, 503, 504)
# Every origin answer carries Cache-Control; anything that does not (API Gateway's own errors)
# is not cached. Nothing is cached longer than the spec's longest lifetime.
DEFAULT_TTL = Duration.seconds(0)
MAX_TTL = Duration.seconds(MAX_PERMANENT_AGE)
PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


def failover_region(config: EnvironmentConfig) -> str | None:
    """The serving region nearest to the home region, or None with a single serving region."""
    others = config.replica_regions
    return nearest_region(config.home_region, others) if others else None


class EdgeStack(SqurlStack):
    """Exposes `.distribution`, `.edge_function`, `.format_function`, `.waf` and `.request_log`
    (`.stream`; None when analytics, its only reader, is off)."""

    ROLE = "edge"

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        apis: Mapping[str, ApiStack],
        user_pool: SqurlUserPool | None = None,
    ) -> None:
        super().__init__(
            scope,
            config=config,
            region=names.CLOUDFRONT_REGION,
            description="edge: CloudFront, Lambda@Edge redirects, WAF",
            # The failover origin is another region's API: its host crosses regions.
            cross_region_references=True,
        )

        bundle = EdgeBundleConfig(
            table_name=names.table_name(config.name),
            home_region=config.home_region,
            serving_regions=tuple(config.serving_regions),
            nearest_replica=nearest_replica_map(config.serving_regions),
        )
        self.edge_function = EdgeRedirectFunction(
            self, "Redirect", env_name=config.name, bundle=bundle
        )

        # The request stream's only reader is the analytics stack: without it, no stream.
        self.request_log: EdgeRequestLog | None = None
        if config.analytics.enabled:
            self.request_log = EdgeRequestLog(
                self,
                "RequestLog",
                env_name=config.name,
                shards=(
                    config.edge.realtime_log_shards
                    if config.edge.realtime_log_stream_mode == "provisioned"
                    else None
                ),
                sampling_percent=config.edge.realtime_log_sampling_percent,
            )

        self.waf: EdgeWaf | None = None
        if config.waf.enabled:
            self.waf = EdgeWaf(self, "Waf", name=f"squrl-{config.name}-edge", settings=config.waf)

        # Accept, reduced on viewer request to x-squrl-format (html|json): the only header in the
        # key, so a path has at most two variants and 404/410 are cached in each format.
        self.format_function = EdgeFormatFunction(self, "Format", env_name=config.name)
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "PathAndFormat",
            cache_policy_name=f"squrl-{config.name}-path-format",
            comment="squrl redirects: path + x-squrl-format; lifetimes from Cache-Control",
            min_ttl=Duration.seconds(0),
            default_ttl=DEFAULT_TTL,
            max_ttl=MAX_TTL,
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list(FORMAT_HEADER),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            # Needed for CloudFront to compress; adds only the normalized encoding to the key.
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        # Accept reaches the function and the origin without entering the cache key (the key's
        # header, x-squrl-format, reaches them too, as every cache-key value does).
        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "AcceptOnly",
            origin_request_policy_name=f"squrl-{config.name}-accept-only",
            comment="squrl redirects: forward Accept, nothing else",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("Accept"),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
        )

        self.failover_region = failover_region(config)
        primary = self._api_origin(apis[config.home_region], PRIMARY)
        origin: cloudfront.IOrigin = primary
        if self.failover_region is not None:
            origin = origins.OriginGroup(
                primary_origin=primary,
                fallback_origin=self._api_origin(apis[self.failover_region], FAILOVER),
                fallback_status_codes=list(FAILOVER_STATUS_CODES),
            )

        edge_lambdas = None
        if config.edge.redirect_at_edge:
            version = self.edge_function.version
            edge_lambdas = [
                cloudfront.EdgeLambda(
                    event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
                    function_version=version,
                ),
            ]

        self.short_domain: ShortDomain | None = None
        certificate = None
        domain_names = None
        if config.short_domain:
            self.short_domain = ShortDomain(
                self,
                "ShortDomain",
                domain=config.short_domain,
                hosted_zone_id=config.domain.hosted_zone_id,
                certificate_arn=config.edge.certificate_arn,
            )
            certificate = self.short_domain.certificate
            domain_names = [config.short_domain]

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"squrl {config.name} short links",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=self.cache_policy,
                origin_request_policy=self.origin_request_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.format_function.function,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
                edge_lambdas=edge_lambdas,
                realtime_log_config=self.request_log.config if self.request_log else None,
            ),
            domain_names=domain_names,
            certificate=certificate,
            # Only a custom certificate takes a security policy; the default one is fixed.
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            price_class=PRICE_CLASSES[config.edge.price_class],
            web_acl_id=self.waf.web_acl.attr_arn if self.waf else None,
            # The answers carry their own lifetimes (a 404/410 with max-age=60 is cached for
            # 60 s per format); these only stop CloudFront's default 10-second error caching
            # from holding a 404 without Cache-Control (API Gateway's own) or an outage's 5xx.
            error_responses=[
                cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0))
                for status in (404, *FAILOVER_STATUS_CODES)
            ],
        )
        self._acknowledge(config)
        self.web_app = self._web_app(config, apis[config.home_region], user_pool)
        if self.short_domain is not None:
            self.short_domain.serve(self.distribution)
            if self.short_domain.zone is None:
                CfnOutput(
                    self,
                    "ShortDomainRecord",
                    description="Publish this record in the short domain's DNS zone",
                    value=self.short_domain.records_to_publish(self.distribution),
                )

        # The invalidator (data stack, home region) reads the id by this fixed name at run time:
        # that stack deploys before this one, so it cannot reference the distribution.
        ssm.StringParameter(
            self,
            "DistributionIdParameter",
            parameter_name=names.distribution_id_parameter(config.name),
            string_value=self.distribution.distribution_id,
            description="squrl: the distribution whose paths the invalidator invalidates",
        )
        CfnOutput(self, "DistributionDomain", value=self.distribution.distribution_domain_name)
        CfnOutput(self, "DistributionId", value=self.distribution.distribution_id)
        if self.request_log is not None:
            CfnOutput(self, "EdgeRequestStreamArn", value=self.request_log.stream.stream_arn)
        CfnOutput(
            self,
            "ShortBaseUrl",
            value=f"https://{config.short_domain or self.distribution.distribution_domain_name}",
        )

    def sources(self) -> EdgeSources:
        """What observability watches at the edge (its metrics are in CloudFront's region)."""
        return EdgeSources(
            distribution_id=self.distribution.distribution_id,
            function_name=self.edge_function.function_name,
            web_acl_name=self.waf.name if self.waf is not None else None,
            request_stream_name=self.request_log.stream_name if self.request_log else None,
        )

    def _web_app(
        self, config: EnvironmentConfig, home_api: ApiStack, user_pool: SqurlUserPool | None
    ) -> WebApp:
        """The web app at /app/ (docs/web.md): it calls the API on its own host, `api.<short
        domain>` when squrl routes one, else the home region's stage URL; it signs in with the
        home region's user pool when it is given."""
        if config.api_host:
            api_origin = f"https://{config.api_host}"
            api_base_url = api_origin
        else:
            api_origin = (
                f"https://{home_api.api.rest_api_id}.execute-api.{home_api.region}.{Aws.URL_SUFFIX}"
            )
            api_base_url = f"{api_origin}/{home_api.links_api.stage_name}"
        app = WebApp(
            self,
            "WebApp",
            env_name=config.name,
            distribution=self.distribution,
            api_base_url=api_base_url,
            connect_origins=[api_origin],
            cognito=self._sign_in(config, user_pool) if user_pool else None,
        )
        # The web app's address: the web client's callback URL (docs/identity.md).
        host = config.short_domain or self.distribution.distribution_domain_name
        CfnOutput(self, "WebAppUrl", value=f"https://{host}{web.PREFIX}/")
        return app

    def _sign_in(self, config: EnvironmentConfig, user_pool: SqurlUserPool) -> dict[str, Any]:
        """The web app's Cognito settings (docs/web.md, "Sign-in in AWS"). The hosted UI's
        origin follows from cdk.json; the web client's id is a reference to the data stack
        (an export when the home region is us-east-1, else a cross-region reference, which
        this stack allows); the redirect URI is the app on the short domain, or on the
        distribution's own name, which must then be added to identity.web_callback_urls."""
        host = config.short_domain or self.distribution.distribution_domain_name
        return {
            "domain": user_pool.hosted_ui_domain,
            "client_id": user_pool.web_client.user_pool_client_id,
            "redirect_uri": f"https://{host}{web.PREFIX}/",
            "scopes": list(OAUTH_SCOPE_NAMES),
            "token_use": "access",
        }

    def _api_origin(self, api: ApiStack, role: str) -> origins.HttpOrigin:
        # The API's own region, written out: its `host` uses AWS::Region, which would name
        # this stack's region here.
        host = f"{api.api.rest_api_id}.execute-api.{api.region}.{Aws.URL_SUFFIX}"
        return origins.HttpOrigin(
            host,
            origin_path=f"/{api.links_api.stage_name}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            # Fail over in seconds, not CloudFront's default 3 x 10 s: the regional redirect
            # itself gives up within 5 s.
            connection_attempts=2,
            connection_timeout=Duration.seconds(2),
            read_timeout=Duration.seconds(6),
            custom_headers={ORIGIN_ROLE_HEADER: role},
        )

    def _acknowledge(self, config: EnvironmentConfig) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Short links are public and meant to work worldwide; restricting countries would "
            "break links shared across borders. Abuse is handled by WAF.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "Standard access logs record every viewer's IP address, which squrl promises not to "
            "keep. Real-time logs with an IP-free field list (shared.contracts.edge_log_fields) "
            "are the access record instead.",
        )
        if not config.short_domain:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                f"{config.name} has no short domain, so it uses the *.cloudfront.net "
                "certificate, whose TLS policy CloudFront fixes (TLSv1); environments with a "
                "short domain use their own certificate with TLSv1.2_2021.",
            )
        if not config.waf.enabled:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                f"waf.enabled is false for {config.name} in cdk.json: a cost decision for an "
                "environment without public traffic.",
            )

"""The web app on the distribution: `/app/*` from a private S3 bucket (docs/web.md).

The bucket is reachable only by CloudFront, through origin access control. The built app
(`.build/web`, tools/build_web.py, built at synth) is deployed with the stack: the
content-hashed assets first (cached for a year; earlier builds' assets are kept, so a browser
holding an older index.html still gets what it names), then index.html and a generated
config.json (no-cache). A viewer-request function maps `/app/` to `index.html` and redirects
`/app` to `/app/`; a response headers policy sends the same Content-Security-Policy and security
headers as the local server (shared/contracts/web.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from shared.contracts import web

# Maps the app's entry paths on viewer request (cloudfront-js-2.0).
ENTRY_FUNCTION = f"""function handler(event) {{
  var request = event.request;
  if (request.uri === '{web.PREFIX}') {{
    return {{ statusCode: 301, statusDescription: 'Moved Permanently', headers: {{
      location: {{ value: '{web.PREFIX}/' }}, 'cache-control': {{ value: 'no-cache' }} }} }};
  }}
  if (request.uri === '{web.PREFIX}/') {{
    request.uri = '{web.PREFIX}/{web.INDEX}';
  }}
  return request;
}}
"""
HSTS_SECONDS = 63072000  # two years


def build_dir() -> Path:
    """The app, built now from web/ (deterministic: the same sources give the same files)."""
    from tools import build_web

    return build_web.build(build_web.SOURCE, build_web.OUT).out


class WebApp(Construct):
    """Exposes `.bucket`, `.response_headers_policy` and `.cache_policy`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        distribution: cloudfront.Distribution,
        api_base_url: str,
        connect_origins: Sequence[str],
        cognito: Mapping[str, Any] | None = None,
        source: Path | None = None,
    ) -> None:
        """`cognito`, when the environment has a user pool: `domain` (the hosted UI's
        https origin), `client_id` (the web app client), `redirect_uri` (`https://<short
        domain>/app/`, one of the client's callback URLs), optional `scopes` and `token_use`
        (`access`, the default, or `id`). It goes into config.json, and its domain into the
        CSP's connect-src."""
        super().__init__(scope, construct_id)
        source = source or build_dir()
        # The hosted UI's token endpoint is called from the page (the PKCE code exchange).
        if cognito:
            connect_origins = [*connect_origins, str(cognito["domain"]).rstrip("/")]
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Only build output lives here: the stack redeploys it, nothing is lost with it.
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "CachePolicy",
            cache_policy_name=f"squrl-{env_name}-web",
            comment="squrl web app: lifetimes from each object's Cache-Control",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(web.ASSET_MAX_AGE_SECONDS),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        self.response_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            response_headers_policy_name=f"squrl-{env_name}-web",
            comment="squrl web app: strict CSP and security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=web.content_security_policy(connect_origins),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )
        self.entry_function = cloudfront.Function(
            self,
            "EntryFunction",
            function_name=f"squrl-{env_name}-web-entry",
            comment="squrl web app: /app -> /app/, /app/ -> index.html",
            code=cloudfront.FunctionCode.from_inline(ENTRY_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        behavior = cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            cache_policy=self.cache_policy,
            response_headers_policy=self.response_headers_policy,
            compress=True,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=self.entry_function,
                    event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                )
            ],
        )
        distribution.add_behavior(f"{web.PREFIX}/*", behavior.origin, **_options(behavior))
        distribution.add_behavior(web.PREFIX, behavior.origin, **_options(behavior))

        prefix = web.PREFIX.strip("/")
        assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            sources=[s3deploy.Source.asset(str(source / web.ASSETS_DIR))],
            destination_bucket=self.bucket,
            destination_key_prefix=f"{prefix}/{web.ASSETS_DIR}/",
            cache_control=[s3deploy.CacheControl.from_string(web.ASSET_CACHE_CONTROL)],
            prune=False,
            memory_limit=256,
        )
        config = {"api_base_url": api_base_url, "cognito": dict(cognito) if cognito else None}
        entry = s3deploy.BucketDeployment(
            self,
            "Entry",
            sources=[
                s3deploy.Source.asset(str(source), exclude=[web.ASSETS_DIR, f"{web.ASSETS_DIR}/*"]),
                s3deploy.Source.json_data(web.CONFIG, config),
            ],
            destination_bucket=self.bucket,
            destination_key_prefix=f"{prefix}/",
            cache_control=[s3deploy.CacheControl.from_string(web.INDEX_CACHE_CONTROL)],
            prune=False,
            memory_limit=256,
        )
        # index.html never names an asset that is not there yet.
        entry.node.add_dependency(assets)
        self._acknowledge()

    def _acknowledge(self) -> None:
        stack = Stack.of(self)
        provider = next(
            child
            for child in stack.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        bucket_id = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        staging = f"arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-{stack.account}-{stack.region}"
        why = (
            "CDK's BucketDeployment provider, run only while the stack deploys: it copies the "
            "app from the CDK staging bucket into the web bucket (read there, write and delete "
            "here, under object wildcards that cannot be narrowed to files not known yet), logs "
            "with the basic execution role, and its runtime is the one this CDK version pins."
        )
        for rule in (
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            f"AwsSolutions-IAM5[Resource::{staging}/*]",
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
            "AwsSolutions-L1",
        ):
            acknowledge(provider, rule, why)
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only the public web app's build output, read only by CloudFront "
            "through origin access control; the distribution's real-time logs record requests.",
        )


def _options(behavior: cloudfront.BehaviorOptions) -> dict[str, Any]:
    return {
        "viewer_protocol_policy": behavior.viewer_protocol_policy,
        "allowed_methods": behavior.allowed_methods,
        "cached_methods": behavior.cached_methods,
        "cache_policy": behavior.cache_policy,
        "response_headers_policy": behavior.response_headers_policy,
        "compress": behavior.compress,
        "function_associations": behavior.function_associations,
    }

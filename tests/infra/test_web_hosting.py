"""The web app on the distribution (docs/web.md): a private bucket behind origin access control,
`/app/*` and `/app` behaviours, cache lifetimes from each object, a strict CSP, and the build
deployed with the stack; plus the API's CORS allowing the app's origin."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from shared.contracts import web
from squrl_config import load_config
from tests.infra.conftest import cdk_json_context
from tests.infra.helpers import only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVIRONMENTS = ("dev", "staging", "prod")
YEAR_SECONDS = 31536000


def edge(synth: Any, env: str) -> dict[str, Any]:
    return synth.templates[f"squrl-{env}-edge-us-east-1"]


def web_bucket_id(template: dict[str, Any]) -> str:
    (bucket_id,) = [k for k in resources(template, "AWS::S3::Bucket") if k.startswith("WebApp")]
    return bucket_id


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bucket_is_private_and_read_only_by_this_distribution(synth: Any, env: str) -> None:
    template = edge(synth, env)
    bucket_id = web_bucket_id(template)
    bucket = template["Resources"][bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (statements,) = policies
    readers = [
        s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    (reader,) = readers
    assert reader["Action"] == "s3:GetObject"
    source = json.dumps(reader["Condition"]["StringEquals"]["AWS:SourceArn"])
    distribution_id = next(iter(resources(template, "AWS::CloudFront::Distribution")))
    assert distribution_id in source
    oac = only(template, "AWS::CloudFront::OriginAccessControl")["Properties"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_app_behaviours_serve_the_bucket_with_the_headers_policy(synth: Any, env: str) -> None:
    template = edge(synth, env)
    config = only(template, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    s3_origins = {o["Id"] for o in config["Origins"] if "S3OriginConfig" in o}
    (s3_origin,) = s3_origins
    assert all("OriginAccessControlId" in o for o in config["Origins"] if o["Id"] == s3_origin)
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) >= {"/app/*", "/app"}
    (policy_id,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy")
    cache = {
        k: v
        for k, v in resources(template, "AWS::CloudFront::CachePolicy").items()
        if k.startswith("WebApp")
    }
    (cache_id,) = cache
    for pattern in ("/app/*", "/app"):
        behaviour = behaviours[pattern]
        assert behaviour["TargetOriginId"] == s3_origin
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy_id}
        assert behaviour["CachePolicyId"] == {"Ref": cache_id}
        assert behaviour["Compress"] is True
        (association,) = behaviour["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
    # The default behaviour (redirects) is untouched.
    assert config["DefaultCacheBehavior"]["TargetOriginId"] != s3_origin
    # Lifetimes come from each object: no-cache for the entry page, a year for assets.
    settings = cache[cache_id]["Properties"]["CachePolicyConfig"]
    assert (settings["MinTTL"], settings["DefaultTTL"], settings["MaxTTL"]) == (0, 0, YEAR_SECONDS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_strict_content_security_policy_allows_only_the_api(synth: Any, env: str) -> None:
    template = edge(synth, env)
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]
    security = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp_value = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    parts = csp_value["Fn::Join"][1]
    literal = "".join(p for p in parts if isinstance(p, str))
    assert literal.startswith("default-src 'none'; script-src 'self'; style-src 'self';")
    assert "unsafe-inline" not in literal and "unsafe-eval" not in literal
    assert "frame-ancestors 'none'" in literal
    assert "connect-src 'self' https://" in literal and ".execute-api." in literal
    assert security["ContentSecurityPolicy"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= YEAR_SECONDS
    # The same policy the local server sends, but for the API's origin.
    assert without_connect(literal) == without_connect(web.content_security_policy())


def without_connect(csp: str) -> str:
    return "; ".join(d for d in csp.split("; ") if not d.startswith("connect-src"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_build_is_deployed_assets_first_with_their_cache_lifetimes(
    synth: Any, env: str
) -> None:
    template = edge(synth, env)
    deployments = resources(template, "Custom::CDKBucketDeployment")
    by_prefix = {
        d["Properties"]["DestinationBucketKeyPrefix"]: (k, d) for k, d in deployments.items()
    }
    assert set(by_prefix) == {"app/assets/", "app/"}
    assets_id, assets = by_prefix["app/assets/"]
    _, entry = by_prefix["app/"]
    assert assets["Properties"]["SystemMetadata"] == {"cache-control": web.ASSET_CACHE_CONTROL}
    assert f"max-age={YEAR_SECONDS}," in web.ASSET_CACHE_CONTROL
    assert entry["Properties"]["SystemMetadata"] == {"cache-control": "no-cache"}
    # Older assets stay: a browser holding the previous index.html still loads what it names.
    assert assets["Properties"]["Prune"] is False and entry["Properties"]["Prune"] is False
    assert assets_id in entry["DependsOn"]
    # index.html plus the generated config.json, which names the API's base URL.
    assert len(entry["Properties"]["SourceObjectKeys"]) == 2
    markers = json.dumps(entry["Properties"]["SourceMarkers"])
    assert ".execute-api.us-east-1." in markers and f"/{env}" in markers
    bucket_id = web_bucket_id(template)
    for deployment in (assets, entry):
        assert deployment["Properties"]["DestinationBucketName"] == {"Ref": bucket_id}


def run_entry_function(uri: str) -> dict[str, Any]:
    from cdk_constructs.web.web_app import ENTRY_FUNCTION

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        ENTRY_FUNCTION
        + f"\nconsole.log(JSON.stringify(handler({{request: {{uri: {json.dumps(uri)}}}}})));"
    )
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_entry_function_maps_the_app_paths() -> None:
    assert run_entry_function("/app/") == {"uri": "/app/index.html"}
    redirect = run_entry_function("/app")
    assert redirect["statusCode"] == 301
    assert redirect["headers"]["location"]["value"] == "/app/"
    assert run_entry_function("/app/assets/main.0123456789.js") == {
        "uri": "/app/assets/main.0123456789.js"
    }
    assert run_entry_function("/app/config.json") == {"uri": "/app/config.json"}


def test_the_short_domain_origin_is_allowed_by_cors() -> None:
    context = cdk_json_context()
    prod = context["squrl"]["environments"]["prod"]
    prod["short_domain"] = "sq.example.com"
    config = load_config(context).environments["prod"]
    assert config.cors_allowed_origins == [
        *prod["api"]["cors_allowed_origins"],
        "https://sq.example.com",
    ]
    # Listed already, or any origin: nothing added.
    prod["api"]["cors_allowed_origins"] = ["https://sq.example.com"]
    assert load_config(context).environments["prod"].cors_allowed_origins == [
        "https://sq.example.com"
    ]
    prod["api"]["cors_allowed_origins"] = ["*"]
    assert load_config(context).environments["prod"].cors_allowed_origins == ["*"]


def test_cognito_settings_reach_config_json_and_the_csp(tmp_path: Any) -> None:
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_cloudfront as cloudfront
    from aws_cdk import aws_cloudfront_origins as origins

    from cdk_constructs.web.web_app import WebApp

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe", env=Environment(account="111111111111", region="us-east-1"))
    distribution = cloudfront.Distribution(
        stack,
        "Distribution",
        default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com")),
    )
    domain = "https://squrl-dev.auth.us-east-1.amazoncognito.com"
    WebApp(
        stack,
        "WebApp",
        env_name="probe",
        distribution=distribution,
        api_base_url="https://api.sq.example.com",
        connect_origins=["https://api.sq.example.com"],
        cognito={"domain": domain, "client_id": "abc123", "redirect_uri": "https://sq/app/"},
    )
    template = app.synth().get_stack_by_name("Probe").template
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]
    csp = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert (
        f"connect-src 'self' https://api.sq.example.com {domain};" in (csp["ContentSecurityPolicy"])
    )
    deployments = resources(template, "Custom::CDKBucketDeployment").values()
    (entry,) = [d for d in deployments if d["Properties"]["DestinationBucketKeyPrefix"] == "app/"]
    (staged,) = [
        json.loads(path.read_text())
        for path in tmp_path.glob("asset.*/config.json")
        if "cognito" in path.read_text()
    ]
    assert staged == {
        "api_base_url": "https://api.sq.example.com",
        "cognito": {"domain": domain, "client_id": "abc123", "redirect_uri": "https://sq/app/"},
    }
    assert len(entry["Properties"]["SourceObjectKeys"]) == 2

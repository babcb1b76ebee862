"""Every environment's edge stack: CloudFront, Lambda@Edge, origin group, WAF, real-time logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from cdk_constructs.edge.edge_format import SOURCE
from shared.contracts.edge_log_fields import FIELDS
from squrl_config import PRICE_CLASSES, minimum_price_class
from tests.infra.helpers import only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVIRONMENTS = ("dev", "staging", "prod")


def edge_template(synth: Any, env: str) -> dict[str, Any]:
    name = f"squrl-{env}-edge-us-east-1"
    assert synth.stack_regions[name] == "us-east-1"
    return synth.templates[name]


def distribution_config(synth: Any, env: str) -> dict[str, Any]:
    return only(edge_template(synth, env), "AWS::CloudFront::Distribution")["Properties"][
        "DistributionConfig"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_distribution_with_the_edge_function_on_origin_request(synth: Any, env: str) -> None:
    template = edge_template(synth, env)
    config = distribution_config(synth, env)
    behavior = config["DefaultCacheBehavior"]
    version_id = next(iter(resources(template, "AWS::Lambda::Version")))
    associations = {
        a["EventType"]: a["LambdaFunctionARN"] for a in behavior["LambdaFunctionAssociations"]
    }
    # Origin request only: 404/410 need no rewriting on the way back any more.
    assert associations == {"origin-request": {"Ref": version_id}}
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["Compress"] is True
    assert config["HttpVersion"] == "http2and3"
    assert config["Enabled"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_edge_function_has_no_environment_and_runs_on_x86(synth: Any, env: str) -> None:
    functions = [
        f["Properties"]
        for f in resources(edge_template(synth, env), "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == f"squrl-{env}-edge-redirect"
    ]
    assert len(functions) == 1
    function = functions[0]
    assert "Environment" not in function
    assert "TracingConfig" not in function and "Layers" not in function
    assert function["Architectures"] == ["x86_64"]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "functions.edge_redirect.handler.handler"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_edge_role_reads_only_the_table_in_each_serving_region(synth: Any, env: str) -> None:
    template = edge_template(synth, env)
    function = next(
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == f"squrl-{env}-edge-redirect"
    )
    edge_role = function["Role"]["Fn::GetAtt"][0]
    trust = resources(template, "AWS::IAM::Role")[edge_role]["Properties"]
    principals = json.dumps(trust["AssumeRolePolicyDocument"])
    assert "edgelambda.amazonaws.com" in principals and "lambda.amazonaws.com" in principals
    statements = [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": edge_role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamo = [s for s in statements if "dynamodb" in json.dumps(s["Action"])]
    assert len(dynamo) == 1 and dynamo[0]["Action"] == "dynamodb:GetItem"
    text = json.dumps(dynamo[0]["Resource"])
    for region in synth.config.environments[env].serving_regions:
        assert f"dynamodb:{region}:" in text
    assert f"table/squrl-urls-{env}" in text


def test_origin_group_fails_over_to_the_nearest_other_region(synth: Any) -> None:
    for env, failover in (("staging", "eu-west-1"), ("prod", "eu-west-1")):
        config = distribution_config(synth, env)
        groups = config["OriginGroups"]["Items"]
        assert len(groups) == 1
        assert groups[0]["FailoverCriteria"]["StatusCodes"]["Items"] == [500, 502, 503, 504]
        members = [m["OriginId"] for m in groups[0]["Members"]["Items"]]
        origins = {o["Id"]: o for o in config["Origins"]}
        primary, secondary = (origins[m] for m in members)
        assert ".execute-api.us-east-1." in json.dumps(primary["DomainName"])
        assert f".execute-api.{failover}." in json.dumps(secondary["DomainName"])
        assert "AWS::Region" not in json.dumps(secondary["DomainName"])
        roles = [o["OriginCustomHeaders"][0]["HeaderValue"] for o in (primary, secondary)]
        assert roles == ["primary", "failover"]
        assert primary["OriginPath"] == secondary["OriginPath"] == f"/{env}"
        assert config["DefaultCacheBehavior"]["TargetOriginId"] == groups[0]["Id"]


def test_a_single_region_environment_has_one_origin_and_no_group(synth: Any) -> None:
    config = distribution_config(synth, "dev")
    assert "OriginGroups" not in config
    # One API origin; the other is the web app's bucket (tests/infra/test_web_hosting.py).
    api_origins = [o for o in config["Origins"] if "S3OriginConfig" not in o]
    assert len(api_origins) == 1
    assert len(config["Origins"]) == 2
    assert api_origins[0]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_viewer_request_function_reduces_accept_on_the_default_behaviour(
    synth: Any, env: str
) -> None:
    template = edge_template(synth, env)
    function_id, function = next(iter(resources(template, "AWS::CloudFront::Function").items()))
    props = function["Properties"]
    assert props["Name"] == f"squrl-{env}-edge-format"
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert props["AutoPublish"] is True
    assert "x-squrl-format" in props["FunctionCode"]
    assert props["FunctionCode"] == SOURCE.read_text()
    behavior = distribution_config(synth, env)["DefaultCacheBehavior"]
    assert behavior["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]}}
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cache_key_is_the_path_and_the_normalized_format(synth: Any, env: str) -> None:
    template = edge_template(synth, env)
    (policy,) = [
        p["Properties"]["CachePolicyConfig"]
        for p in resources(template, "AWS::CloudFront::CachePolicy").values()
        if p["Properties"]["CachePolicyConfig"]["Name"] == f"squrl-{env}-path-format"
    ]
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"]["CookieBehavior"] == "none"
    # One header, with two possible values: at most two variants of a path.
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["x-squrl-format"]}
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert policy["MaxTTL"] == 3600 and policy["DefaultTTL"] == 0 and policy["MinTTL"] == 0
    forwarded = only(template, "AWS::CloudFront::OriginRequestPolicy")["Properties"][
        "OriginRequestPolicyConfig"
    ]
    assert forwarded["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept"]}
    assert forwarded["QueryStringsConfig"]["QueryStringBehavior"] == "none"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cloudfront_scope_waf_with_a_429_rate_rule(synth: Any, env: str) -> None:
    template = edge_template(synth, env)
    acl_id, acl = next(iter(resources(template, "AWS::WAFv2::WebACL").items()))
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT"
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesAmazonIpReputationList"} <= set(rules)
    rate = rules["RateLimitPerIp"]
    assert (
        rate["Statement"]["RateBasedStatement"]["Limit"]
        == synth.config.environments[env].waf.rate_limit
    )
    assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    assert distribution_config(synth, env)["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # Only the regional ACL counts the common rule set's body rules (creates have bodies);
    # at the edge every managed rule keeps its own action.
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert "RuleActionOverrides" not in common


# Environments whose analytics stack reads the edge's request stream; elsewhere there is none
# (tests/infra/test_waste.py).
WITH_ANALYTICS = ["staging", "prod"]


@pytest.mark.parametrize("env", WITH_ANALYTICS)
def test_real_time_logs_carry_the_shared_field_list_and_no_ip(synth: Any, env: str) -> None:
    template = edge_template(synth, env)
    config_id, log_config = next(
        iter(resources(template, "AWS::CloudFront::RealtimeLogConfig").items())
    )
    props = log_config["Properties"]
    assert props["Fields"] == list(FIELDS)
    assert "c-ip" not in props["Fields"] and "x-forwarded-for" not in props["Fields"]
    assert props["SamplingRate"] == 100
    stream_id = next(iter(resources(template, "AWS::Kinesis::Stream")))
    endpoint = props["EndPoints"][0]["KinesisStreamConfig"]
    assert endpoint["StreamArn"] == {"Fn::GetAtt": [stream_id, "Arn"]}
    behavior = distribution_config(synth, env)["DefaultCacheBehavior"]
    assert behavior["RealtimeLogConfigArn"] == {"Ref": config_id}


@pytest.mark.parametrize("env", WITH_ANALYTICS)
def test_real_time_log_stream_capacity_follows_config(synth: Any, env: str) -> None:
    edge = synth.config.environments[env].edge
    stream = only(edge_template(synth, env), "AWS::Kinesis::Stream")["Properties"]
    if edge.realtime_log_stream_mode == "on_demand":
        assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
        assert "ShardCount" not in stream
    else:
        assert stream.get("StreamModeDetails", {"StreamMode": "PROVISIONED"}) == {
            "StreamMode": "PROVISIONED"
        }
        assert stream["ShardCount"] == edge.realtime_log_shards


def test_prod_edge_log_stream_is_on_demand(synth: Any) -> None:
    # One record per request, cache hits included: a provisioned shard (1,000 records a
    # second) would refuse edge clicks once prod is busier than that.
    stream = only(edge_template(synth, "prod"), "AWS::Kinesis::Stream")["Properties"]
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_price_class_reaches_every_serving_region(synth: Any, env: str) -> None:
    config = synth.config.environments[env]
    price_class = distribution_config(synth, env)["PriceClass"]
    assert price_class == config.edge.price_class
    for region in config.serving_regions:
        needed = minimum_price_class(region)
        assert PRICE_CLASSES.index(price_class) >= PRICE_CLASSES.index(needed), (region, needed)
    if "ap-southeast-1" in config.serving_regions:
        assert price_class in ("PriceClass_200", "PriceClass_All")


def test_without_a_short_domain_the_distribution_keeps_its_own_name(synth: Any) -> None:
    # The committed cdk.json names no short domain (a placeholder's certificate never
    # validates): every distribution answers on *.cloudfront.net with CloudFront's certificate.
    # The short-domain cases are in test_domain.py.
    for env in ENVIRONMENTS:
        assert synth.config.environments[env].short_domain is None
        config = distribution_config(synth, env)
        assert config.get("ViewerCertificate", {"CloudFrontDefaultCertificate": True}) == {
            "CloudFrontDefaultCertificate": True
        }
        assert "Aliases" not in config
        template = edge_template(synth, env)
        assert not resources(template, "AWS::CertificateManager::Certificate")
        assert not resources(template, "AWS::Route53::RecordSet")


def test_error_caching_is_left_to_the_answers(synth: Any) -> None:
    errors = distribution_config(synth, "prod")["CustomErrorResponses"]
    assert {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in errors} == {
        404: 0,
        500: 0,
        502: 0,
        503: 0,
        504: 0,
    }
    assert all("ResponsePagePath" not in e for e in errors)


def test_the_bundle_holds_only_what_the_handler_imports(synth: Any) -> None:
    asset = synth.environments["prod"].edge.edge_function.asset
    files = sorted(
        os.path.relpath(os.path.join(d, f), asset.path)
        for d, _, fs in os.walk(asset.path)
        for f in fs
    )
    assert "functions/edge_redirect/bundle_config.py" in files
    assert "functions/edge_redirect/handler.py" in files
    assert "shared/redirect/core.py" in files
    assert "shared/redirect/answer.py" in files
    # Nothing the API functions need: no pydantic models, no Powertools, no third-party code.
    for absent in ("shared/links/models.py", "shared/links/api.py", "shared/links/service.py"):
        assert absent not in files
    assert not [f for f in files if f.split("/")[0] not in ("functions", "shared")]


def test_the_bundle_imports_alone_and_reads_its_own_configuration(synth: Any) -> None:
    """The bundle, and only it, on the path: pydantic and Powertools are made unimportable."""
    asset = synth.environments["prod"].edge.edge_function.asset
    code = f"""
import sys
sys.path.insert(0, {str(asset.path)!r})
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('pydantic', 'aws_lambda_powertools', 'nanoid'):
            raise ImportError('not in the edge bundle: ' + name)
sys.meta_path.insert(0, Refuse())
import functions.edge_redirect.handler as h
assert h.__file__.startswith({str(asset.path)!r}), h.__file__
print(h.config.table_name, h.read_region)
"""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["squrl-urls-prod", "eu-west-1"]

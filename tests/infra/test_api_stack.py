from __future__ import annotations

import json

import pytest

from shared.contracts import names
from shared.contracts import table as table_def
from tests.infra.helpers import (
    function_by_name,
    join,
    methods,
    only,
    policy_statements_of_role,
    resources,
    role_of_function,
)

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

API_STACKS = [
    ("dev", "us-east-1"),
    ("staging", "us-east-1"),
    ("staging", "eu-west-1"),
    ("prod", "us-east-1"),
    ("prod", "eu-west-1"),
    ("prod", "ap-southeast-1"),
]
FUNCTIONS = {"create-url": 10, "redirect": 5, "get-url": 5, "update-url": 10}


def api(synth, env, region):
    return synth.templates[f"squrl-{env}-api-{region}"]


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_routes_and_api_keys(synth, env, region):
    found = methods(api(synth, env, region))
    routes = {key: props for key, props in found.items() if key[0] not in ("OPTIONS", "ANY")}
    expected = {
        ("POST", "/urls"): (True, "create-url"),
        ("POST", "/create"): (True, "create-url"),
        ("POST", "/urls/bulk"): (True, "create-url"),
        ("GET", "/openapi.json"): (False, "get-url"),
        ("GET", "/urls/{code}"): (True, "get-url"),
        ("GET", "/urls/{code}/stats"): (True, "get-url"),
        ("GET", "/urls"): (True, "get-url"),
        ("GET", "/urls/{code}/history"): (True, "get-url"),
        ("GET", "/urls/{code}/qr"): (True, "get-url"),
        ("PATCH", "/urls/{code}"): (True, "update-url"),
        ("DELETE", "/urls/{code}"): (True, "update-url"),
        ("GET", "/{code}"): (False, "redirect"),
        ("HEAD", "/{code}"): (False, "redirect"),
        ("GET", "/health"): (False, "redirect"),
        ("POST", "/tokens"): (True, "identity"),
        ("GET", "/tokens"): (True, "identity"),
        ("DELETE", "/tokens/{id}"): (True, "identity"),
        ("GET", "/me"): (True, "identity"),
        ("GET", "/me/export"): (True, "identity"),
        ("DELETE", "/me"): (True, "identity"),
        ("POST", "/imports"): (True, "imports"),
        ("GET", "/imports/{id}"): (True, "imports"),
    }
    assert set(routes) == set(expected)
    template = api(synth, env, region)
    for key, (keyed, function) in expected.items():
        props = routes[key]
        assert props.get("ApiKeyRequired", False) is keyed, key
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY", key
        target = join(integration["Uri"])
        fn_id = next(
            logical_id
            for logical_id, fn in resources(template, "AWS::Lambda::Function").items()
            if fn["Properties"]["FunctionName"] == f"squrl-{env}-{function}"
        )
        # With a cold-start switch (cdk.json cold_starts) the integration invokes the alias.
        aliases = {
            alias_id
            for alias_id, alias in resources(template, "AWS::Lambda::Alias").items()
            if alias["Properties"]["FunctionName"] == {"Ref": fn_id}
        }
        assert fn_id in target or any(a in target for a in aliases), key


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_create_body_is_validated_against_the_spec_schema(synth, env):
    template = api(synth, env, "us-east-1")
    models = {
        m["Properties"]["Name"]: m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Model").values()
    }
    assert set(models) == {"CreateUrl", "BulkCreateUrls"}
    schema = models["CreateUrl"]["Schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["original_url"]
    props = schema["properties"]
    assert set(props) == {
        "original_url",
        "custom_code",
        "ttl_hours",
        "redirect_type",
        "title",
        "tags",
    }
    assert props["title"]["type"] == ["string", "null"]
    assert props["tags"]["type"] == "array" and props["tags"]["items"]["type"] == "string"
    assert props["original_url"]["type"] == "string" and props["original_url"]["maxLength"] > 2048
    assert props["ttl_hours"] == {"type": "integer", "minimum": 1, "maximum": 87600}
    assert props["redirect_type"]["enum"] == [301, 302, 307, 308]
    assert props["custom_code"]["type"] == "string"
    validator = only(template, "AWS::ApiGateway::RequestValidator")["Properties"]
    assert validator["ValidateRequestBody"] is True
    model_ids = {
        m["Properties"]["Name"]: logical_id
        for logical_id, m in resources(template, "AWS::ApiGateway::Model").items()
    }
    for key, name in (
        (("POST", "/urls"), "CreateUrl"),
        (("POST", "/create"), "CreateUrl"),
        (("POST", "/urls/bulk"), "BulkCreateUrls"),
    ):
        method = methods(template)[key]
        assert "RequestValidatorId" in method
        assert method["RequestModels"]["application/json"] == {"Ref": model_ids[name]}, key
    bulk = models["BulkCreateUrls"]["Schema"]
    assert bulk["required"] == ["items"] and bulk["additionalProperties"] is False
    items = bulk["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 100)
    assert items["items"] == {"type": "object"}


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_undeclared_methods_on_declared_paths_are_405_with_allow(synth, env, region):
    found = methods(api(synth, env, region))
    declared: dict[str, set[str]] = {}
    for method, path in found:
        if method not in ("ANY", "OPTIONS"):
            declared.setdefault(path, set()).add(method)
    assert declared["/urls/{code}"] == {"GET", "PATCH", "DELETE"}
    any_methods = {path: props for (method, path), props in found.items() if method == "ANY"}
    # Every declared path, and no other (the root has no route: it stays 404).
    assert set(any_methods) == set(declared)
    for path, props in any_methods.items():
        assert props.get("ApiKeyRequired", False) is False, path
        assert props.get("AuthorizationType", "NONE") == "NONE", path
        integration = props["Integration"]
        assert integration["Type"] == "MOCK", path
        assert integration["RequestTemplates"]["application/json"] == '{"statusCode": 405}'
        (answer,) = integration["IntegrationResponses"]
        assert answer["StatusCode"] == "405" and "SelectionPattern" not in answer, path
        allow = answer["ResponseParameters"]["method.response.header.Allow"]
        assert allow == "'" + ", ".join(sorted(declared[path])) + "'", path
        body = json.loads(answer["ResponseTemplates"]["application/json"])
        assert set(body) == {"error", "message", "details"}
        assert body["error"] == "MethodNotAllowed"
        (method_response,) = props["MethodResponses"]
        assert method_response["StatusCode"] == "405"
    assert (
        any_methods["/{code}"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Allow"
        ]
        == "'GET, HEAD'"
    )


def test_cors_preflights_stay_explicit_beside_any(synth):
    # API Gateway prefers an explicit method over ANY: a preflight keeps its OPTIONS answer.
    found = methods(api(synth, "staging", "us-east-1"))
    for path in ("/urls", "/urls/bulk", "/urls/{code}"):
        assert ("OPTIONS", path) in found and ("ANY", path) in found
        assert found[("OPTIONS", path)]["Integration"]["Type"] == "MOCK"
        responses = found[("OPTIONS", path)]["Integration"]["IntegrationResponses"]
        assert responses[0]["StatusCode"] == "204"


def test_png_answers_are_binary(synth):
    rest_api = only(api(synth, "prod", "eu-west-1"), "AWS::ApiGateway::RestApi")["Properties"]
    assert rest_api["BinaryMediaTypes"] == ["image/png"]


EXPECTED_GATEWAY_RESPONSES = {
    "BAD_REQUEST_BODY": ("400", "ValidationError"),
    "ACCESS_DENIED": ("403", "Forbidden"),
    "INVALID_API_KEY": ("403", "Forbidden"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "NotFound"),
    "REQUEST_TOO_LARGE": ("413", "PayloadTooLarge"),
    "THROTTLED": ("429", "RateLimitExceeded"),
    "QUOTA_EXCEEDED": ("429", "RateLimitExceeded"),
    "DEFAULT_5XX": (None, "InternalServerError"),
}


def test_gateway_errors_use_the_spec_body(synth):
    template = api(synth, "prod", "eu-west-1")
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    for response_type, (status, error) in EXPECTED_GATEWAY_RESPONSES.items():
        props = responses[response_type]
        assert props.get("StatusCode") == status, response_type
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert set(body) == {"error", "message", "details"}, response_type
        assert body["error"] == error, response_type
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == "'application/json'"
        if status == "429":
            assert int(headers["gatewayresponse.header.Retry-After"].strip("'")) > 0


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_usage_plan_and_key_follow_config(synth, env):
    config = synth.config.environments[env]
    template = api(synth, env, "us-east-1")
    plans = resources(template, "AWS::ApiGateway::UsagePlan")
    keys = resources(template, "AWS::ApiGateway::ApiKey")
    assert len(plans) == 2
    assert len(keys) == 2
    (client_key,) = [k for k, v in keys.items() if "bearer" not in join(v["Properties"]["Name"])]
    (bearer_key,) = [k for k in keys if k != client_key]
    plan_of = {
        key["Properties"]["KeyId"]["Ref"]: key["Properties"]["UsagePlanId"]["Ref"]
        for key in resources(template, "AWS::ApiGateway::UsagePlanKey").values()
    }
    assert set(plan_of) == {client_key, bearer_key}
    # The clients' key: the configured per-key throttle and quota.
    plan = plans[plan_of[client_key]]["Properties"]
    assert plan["Throttle"] == {
        "RateLimit": config.api.throttle_rate_limit,
        "BurstLimit": config.api.throttle_burst_limit,
    }
    assert plan["Quota"] == {"Limit": config.api.quota_limit, "Period": config.api.quota_period}
    # Every token and user caller of the region shares the bearer key (docs/identity.md): a plan
    # of its own, no quota one script could exhaust for everyone, the stage's throttle.
    assert plan_of[bearer_key] != plan_of[client_key]
    bearer_plan = plans[plan_of[bearer_key]]["Properties"]
    assert "Quota" not in bearer_plan
    assert bearer_plan["Throttle"] == {
        "RateLimit": config.api.stage_throttle_rate_limit,
        "BurstLimit": config.api.stage_throttle_burst_limit,
    }
    assert [s["Stage"] for s in bearer_plan["ApiStages"]] == [s["Stage"] for s in plan["ApiStages"]]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_gateway_errors_are_readable_from_any_origin(synth, env):
    # A 403/429 from the gateway must reach the web app on another origin as a 403/429, not as
    # a network error. Credentials are a bearer header: no cookies, no Allow-Credentials.
    template = api(synth, env, "us-east-1")
    responses = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses}
    for response_type in ("UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "DEFAULT_5XX"):
        headers = by_type[response_type]["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        exposed = headers["gatewayresponse.header.Access-Control-Expose-Headers"].strip("'")
        assert "Retry-After" in exposed.split(",")
        assert "gatewayresponse.header.Access-Control-Allow-Credentials" not in headers


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_stage_traces_and_logs_without_personal_data(synth, env, region):
    template = api(synth, env, region)
    stage = only(template, "AWS::ApiGateway::Stage")["Properties"]
    assert stage["TracingEnabled"] is True
    assert stage["StageName"] == env
    log_format = json.loads(stage["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "resourcePath", "responseLatency"} <= set(log_format)
    rendered = json.dumps(log_format)
    for personal in ("sourceIp", "userAgent", "caller", "identity.user", "cognito"):
        assert personal not in rendered
    (method_settings,) = stage["MethodSettings"]
    assert method_settings["DataTraceEnabled"] is False
    endpoint = only(template, "AWS::ApiGateway::RestApi")["Properties"]["EndpointConfiguration"]
    assert endpoint["Types"] == ["REGIONAL"]


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_functions_runtime_settings(synth, env, region):
    config = synth.config.environments[env]
    template = api(synth, env, region)
    for name, timeout in FUNCTIONS.items():
        props = function_by_name(template, f"-{name}")
        module = name.replace("-", "_")
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == f"functions.{module}.handler.handler"
        assert props["Timeout"] == timeout
        assert props["MemorySize"] == getattr(config.functions, module).memory_mb
        assert props["TracingConfig"] == {"Mode": "Active"}
        env_vars = props["Environment"]["Variables"]
        assert env_vars["SQURL_ENV"] == env
        assert env_vars["SQURL_TABLE_NAME"] == names.table_name(env)
        assert env_vars["SQURL_HOME_REGION"] == config.home_region
        assert env_vars["SQURL_CODE_LENGTH"] == str(config.code_length)
        assert env_vars["SQURL_BLOCKLIST"] == ",".join(config.blocklist)
        assert env_vars["POWERTOOLS_SERVICE_NAME"] == "squrl"
        assert env_vars["POWERTOOLS_METRICS_NAMESPACE"] == "Squrl"
        assert env_vars["LOG_LEVEL"] == config.log_level
        # The analytics stack names its stream here; until it is on, clicks go nowhere.
        assert bool(env_vars["SQURL_CLICK_STREAM"]) is config.analytics.enabled
        base_url = join(env_vars["SQURL_SHORT_BASE_URL"])
        own_hosts = join(env_vars["SQURL_OWN_HOSTS"])
        assert ".execute-api." in own_hosts
        if config.short_domain:
            assert base_url == f"https://{config.short_domain}"
            assert own_hosts.startswith(config.short_domain + ",")
        else:
            assert base_url.startswith("https://${") and base_url.endswith(f"/{env}")
    log_groups = resources(template, "AWS::Logs::LogGroup")
    assert {lg["Properties"]["RetentionInDays"] for lg in log_groups.values()} == {
        config.log_retention_days
    }


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_redirect_reaches_dax_only_where_enabled(synth, env, region):
    config = synth.config.environments[env]
    props = function_by_name(api(synth, env, region), "-redirect")
    endpoint = props["Environment"]["Variables"]["SQURL_DAX_ENDPOINT"]
    if config.dax.enabled:
        # The cluster is in the same stack: a reference, never an import (test_dax.py).
        (cluster_id, attribute) = endpoint["Fn::GetAtt"]
        assert attribute == "ClusterDiscoveryEndpointURL"
        assert api(synth, env, region)["Resources"][cluster_id]["Type"] == "AWS::DAX::Cluster"
        assert props["VpcConfig"]["SubnetIds"]
    else:
        assert endpoint == ""
        assert "VpcConfig" not in props


def _dynamodb_statements(template, suffix):
    statements = policy_statements_of_role(template, role_of_function(template, suffix))
    return [s for s in statements if any(a.startswith("dynamodb:") for a in _list(s["Action"]))]


def _list(value):
    return value if isinstance(value, list) else [value]


def _statements_with(template, suffix, service):
    statements = policy_statements_of_role(template, role_of_function(template, suffix))
    return [s for s in statements if any(a.startswith(f"{service}:") for a in _list(s["Action"]))]


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_least_privilege_table_access(synth, env, region):
    config = synth.config.environments[env]
    template = api(synth, env, region)
    table = names.table_name(env)
    local_table = f":dynamodb:{region}:{config.account}:table/{table}"

    # The redirect (shared/redirect/answer.py) reads one item by key and nothing else: GetItem
    # on the local replica, no Query, no index.
    (statement,) = _dynamodb_statements(template, "-redirect")
    assert _list(statement["Action"]) == ["dynamodb:GetItem"]
    (arn,) = [join(r) for r in _list(statement["Resource"])]
    assert arn.endswith(local_table)

    # get_url reads on the local replica only: items by key (GetItem, BatchGetItem for history)
    # and the owner index by Query; nothing that writes, no Scan, no other index.
    reads = {
        tuple(sorted(_list(s["Action"]))): [join(r) for r in _list(s["Resource"])]
        for s in _dynamodb_statements(template, "-get-url")
    }
    assert set(reads) == {("dynamodb:BatchGetItem", "dynamodb:GetItem"), ("dynamodb:Query",)}
    (item_arn,) = reads[("dynamodb:BatchGetItem", "dynamodb:GetItem")]
    assert item_arn.endswith(local_table)
    (owner_index_arn,) = reads[("dynamodb:Query",)]
    assert owner_index_arn.endswith(f"{local_table}/index/owner-index")

    # create_url: the conditional PutItem and the confirming GetItem on the home table, Query
    # on the deduplication index only.
    home = f":dynamodb:{config.home_region}:{config.account}:table/{table}"
    grants = {
        tuple(sorted(_list(s["Action"]))): [join(r) for r in _list(s["Resource"])]
        for s in _dynamodb_statements(template, "-create-url")
    }
    assert set(grants) == {
        ("dynamodb:GetItem", "dynamodb:PutItem"),
        ("dynamodb:DeleteItem", "dynamodb:UpdateItem"),
        ("dynamodb:Query",),
    }
    (table_arn,) = grants[("dynamodb:GetItem", "dynamodb:PutItem")]
    assert table_arn.endswith(home)
    (index_arn,) = grants[("dynamodb:Query",)]
    assert index_arn.endswith(f"{home}/index/{table_def.DEDUP_INDEX}")
    # create may complete or remove its idempotency records, and nothing else: never a link.
    (idempotency,) = [
        s
        for s in _dynamodb_statements(template, "-create-url")
        if "dynamodb:UpdateItem" in _list(s["Action"])
    ]
    assert idempotency["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["idempotency#*"]}
    }

    # update_url: the link's read and one transaction of update, put (history) and delete
    # (stats) on the home table; no index, no Scan.
    (change,) = _dynamodb_statements(template, "-update-url")
    assert sorted(_list(change["Action"])) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    (change_arn,) = [join(r) for r in _list(change["Resource"])]
    assert change_arn.endswith(home)


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_only_the_redirect_reaches_dax_and_only_with_get_item(synth, env, region):
    config = synth.config.environments[env]
    template = api(synth, env, region)
    assert _statements_with(template, "-get-url", "dax") == []
    assert _statements_with(template, "-create-url", "dax") == []
    granted = _statements_with(template, "-redirect", "dax")
    if not config.dax.enabled:
        assert granted == []
        return
    (statement,) = granted
    assert _list(statement["Action"]) == ["dax:GetItem"]
    (cluster,) = _list(statement["Resource"])
    assert cluster == {"Fn::GetAtt": [cluster["Fn::GetAtt"][0], "Arn"]}
    assert template["Resources"][cluster["Fn::GetAtt"][0]]["Type"] == "AWS::DAX::Cluster"


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_waf_guards_the_stage(synth, env, region):
    config = synth.config.environments[env]
    template = api(synth, env, region)
    acl = only(template, "AWS::WAFv2::WebACL")["Properties"]
    assert acl["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        "RateLimitPerIp",
        "BodyTooLarge",
    } <= set(rules)
    rate = rules["RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == config.waf.rate_limit
    response = rate["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert {"Name": "Retry-After", "Value": "60"} in response["ResponseHeaders"]
    body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert body["error"] == "RateLimitExceeded"
    size = rules["BodyTooLarge"]["Action"]["Block"]["CustomResponse"]
    assert size["ResponseCode"] == 413
    # The common rule set's body rules only count: a create body is a URL, and squrl's own
    # validation answers it (201, or 400 InvalidUrl), never a WAF 403.
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    counted = {
        override["Name"]
        for override in common["RuleActionOverrides"]
        if override["ActionToUse"] == {"Count": {}}
    }
    assert counted == {
        "SizeRestrictions_BODY",
        "EC2MetaDataSSRF_BODY",
        "GenericLFI_BODY",
        "GenericRFI_BODY",
        "CrossSiteScripting_BODY",
    }
    assert len(common["RuleActionOverrides"]) == len(counted)
    association = only(template, "AWS::WAFv2::WebACLAssociation")["Properties"]
    stage_id = next(iter(resources(template, "AWS::ApiGateway::Stage")))
    assert stage_id in join(association["ResourceArn"])


def test_cors_preflight_lists_configured_origins(synth):
    config = synth.config.environments["staging"]
    template = api(synth, "staging", "us-east-1")
    preflights = {k[1]: v for k, v in methods(template).items() if k[0] == "OPTIONS"}
    assert set(preflights) == {
        "/urls",
        "/create",
        "/urls/bulk",
        "/urls/{code}",
        "/urls/{code}/stats",
        "/urls/{code}/history",
        "/tokens",
        "/tokens/{id}",
        "/me",
        "/me/export",
        "/urls/{code}/qr",
        "/imports",
        "/imports/{id}",
    }
    (origin,) = config.api.cors_allowed_origins
    for props in preflights.values():
        headers = props["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"


def waf_matches(statement: dict, method: str, headers: dict[str, str]) -> bool:
    """The subset of WAF statement semantics the rate rule's scope-down uses."""
    if "NotStatement" in statement:
        return not waf_matches(statement["NotStatement"]["Statement"], method, headers)
    if "AndStatement" in statement:
        return all(waf_matches(s, method, headers) for s in statement["AndStatement"]["Statements"])
    if "OrStatement" in statement:
        return any(waf_matches(s, method, headers) for s in statement["OrStatement"]["Statements"])
    if "ByteMatchStatement" in statement:
        match = statement["ByteMatchStatement"]
        assert match["FieldToMatch"] == {"Method": {}}
        assert match["PositionalConstraint"] == "EXACTLY"
        return method == match["SearchString"]
    if "SizeConstraintStatement" in statement:
        size = statement["SizeConstraintStatement"]
        name = size["FieldToMatch"]["SingleHeader"]["Name"].lower()
        assert size["ComparisonOperator"] == "GT"
        return len(headers.get(name, "")) > size["Size"]
    raise AssertionError(f"unexpected statement {statement}")


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_cloudfronts_fallback_reads_have_their_own_higher_per_address_limit(synth, env, region):
    # On the fallback path every viewer behind one CloudFront node shares its address; the
    # CloudFront ACL limits those viewers per IP, so the regional per-IP rule must not count
    # them, and a separate, higher per-address limit still bounds a client faking the header.
    config = synth.config.environments[env]
    acl = only(api(synth, env, region), "AWS::WAFv2::WebACL")["Properties"]
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    fallback = rules["RateLimitPerEdgeAddress"]["Statement"]["RateBasedStatement"]
    assert fallback["AggregateKeyType"] == "IP"
    assert fallback["Limit"] == config.waf.edge_fallback_rate_limit > config.waf.rate_limit
    assert rules["RateLimitPerEdgeAddress"]["Action"] == rules["RateLimitPerIp"]["Action"]
    rate = rules["RateLimitPerIp"]
    scope = rate["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    # Every request falls under exactly one of the two rules.
    for method in ("GET", "HEAD", "POST", "PUT"):
        for headers in ({}, {"x-squrl-origin-role": "primary"}):
            assert waf_matches(scope, method, headers) != waf_matches(
                fallback["ScopeDownStatement"], method, headers
            )
    edge = {"x-squrl-origin-role": "failover"}
    assert not waf_matches(scope, "GET", edge)
    assert not waf_matches(scope, "HEAD", {"x-squrl-origin-role": "primary"})
    # Everything else is counted: direct redirects, API calls, and a create that claims to come
    # through CloudFront (the header is not a secret).
    assert waf_matches(scope, "GET", {})
    assert waf_matches(scope, "HEAD", {})
    assert waf_matches(scope, "POST", {})
    assert waf_matches(scope, "POST", edge)
    assert waf_matches(scope, "GET", {"x-squrl-origin-role": ""})


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_the_redirect_logs_json_through_the_runtime_and_the_api_through_powertools(
    synth, env, region
):
    template = api(synth, env, region)
    redirect = function_by_name(template, "-redirect")
    assert redirect["LoggingConfig"]["LogFormat"] == "JSON"
    # Lambda's default application level, INFO: click lines carry no `level`, count as INFO, and
    # a WARN or ERROR level would drop them all.
    assert "ApplicationLogLevel" not in redirect["LoggingConfig"]
    # Platform records (REPORT, which the cold-start query reads) stay at the default level.
    assert "SystemLogLevel" not in redirect["LoggingConfig"]
    for powertools in ("-create-url", "-get-url"):
        config_of = function_by_name(template, powertools).get("LoggingConfig", {})
        assert "LogFormat" not in config_of

"""Identity in the templates (docs/identity.md): the user pool and its clients in the home
region, the authorizer on every authenticated method of every regional API, least privilege."""

from __future__ import annotations

import json

import pytest

from shared.contracts.routes import ROUTES
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
ENVS = ["dev", "staging", "prod"]


def api(synth, env, region):
    return synth.templates[f"squrl-{env}-api-{region}"]


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_the_authorizer_guards_every_authenticated_method(synth, env, region):
    template = api(synth, env, region)
    authorizer_id, authorizer = next(
        iter(resources(template, "AWS::ApiGateway::Authorizer").items())
    )
    props = authorizer["Properties"]
    assert props["Type"] == "REQUEST"
    # No identity sources: a caller with only x-api-key (or only Authorization) still reaches
    # it; API Gateway caches nothing, the function caches tokens for at most 300 s.
    assert not props.get("IdentitySource")
    assert props["AuthorizerResultTtlInSeconds"] == 0
    assert "authorizer" in join(props["AuthorizerUri"]).lower() or "Authorizer" in join(
        props["AuthorizerUri"]
    )
    found = methods(template)
    authenticated = [r for r in ROUTES if r.api_key_required]
    assert len(authenticated) >= 14
    for route in authenticated:
        method = found[(route.method, route.resource)]
        assert method["AuthorizationType"] == "CUSTOM", route
        assert method["AuthorizerId"] == {"Ref": authorizer_id}, route
        assert method["ApiKeyRequired"] is True, route
    for route in (r for r in ROUTES if not r.api_key_required):
        assert found[(route.method, route.resource)]["AuthorizationType"] == "NONE"
    rest_api = only(template, "AWS::ApiGateway::RestApi")["Properties"]
    assert rest_api["ApiKeySourceType"] == "AUTHORIZER"


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_identity_routes_are_served_by_the_identity_function(synth, env, region):
    template = api(synth, env, region)
    found = methods(template)
    for key in [
        ("POST", "/tokens"),
        ("GET", "/tokens"),
        ("DELETE", "/tokens/{id}"),
        ("GET", "/me"),
        ("GET", "/me/export"),
        ("DELETE", "/me"),
    ]:
        uri = join(found[key]["Integration"]["Uri"])
        assert "Identity" in uri, key


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_bearer_callers_have_a_usage_key_in_the_usage_plan(synth, env, region):
    template = api(synth, env, region)
    keys = resources(template, "AWS::ApiGateway::ApiKey")
    assert len(keys) == 2
    plan_keys = resources(template, "AWS::ApiGateway::UsagePlanKey")
    assert {p["Properties"]["KeyId"]["Ref"] for p in plan_keys.values()} == set(keys)
    # Each key in a plan of its own: the bearer key's plan has no quota (test_api_stack).
    assert len({p["Properties"]["UsagePlanId"]["Ref"] for p in plan_keys.values()}) == 2


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_authorizer_iam_is_least_privilege(synth, env, region):
    template = api(synth, env, region)
    home = synth.config.environments[env].home_region
    statements = policy_statements_of_role(template, role_of_function(template, "-authorizer"))
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "apigateway:GET",
        "ssm:GetParameter",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    table = next(s for s in statements if "dynamodb:GetItem" in s["Action"])
    assert f":dynamodb:{region}:" in join(table["Resource"])
    assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["token#*"]}}
    ssm = next(s for s in statements if s["Action"] == "ssm:GetParameter")
    assert f":ssm:{home}:" in join(ssm["Resource"])
    assert f"parameter/squrl/{env}/identity/user-pool" in join(ssm["Resource"])
    env_vars = function_by_name(template, "-authorizer")["Environment"]["Variables"]
    assert int(env_vars["SQURL_AUTH_CACHE_SECONDS"]) <= 300


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_identity_function_writes_only_the_home_table(synth, env, region):
    template = api(synth, env, region)
    home = synth.config.environments[env].home_region
    statements = policy_statements_of_role(template, role_of_function(template, "-identity"))
    for statement in statements:
        text = join(statement["Resource"]) if not isinstance(statement["Resource"], list) else ""
        if any(str(a).startswith("dynamodb:") for a in statement["Action"]):
            assert f":dynamodb:{home}:" in text
            assert "*" not in text
        if "cognito-idp:AdminDeleteUser" in statement["Action"]:
            assert set(statement["Action"]) == {
                "cognito-idp:ListUsers",
                "cognito-idp:AdminDeleteUser",
            }
            assert f":cognito-idp:{home}:" in text


@pytest.mark.parametrize("env", ENVS)
def test_one_user_pool_in_the_home_region_with_web_and_cli_clients(synth, env):
    home = synth.config.environments[env].home_region
    pools = {
        name: t
        for name, t in synth.templates.items()
        if resources(t, "AWS::Cognito::UserPool") and name.startswith(f"squrl-{env}-")
    }
    assert list(pools) == [f"squrl-{env}-data-{home}"]
    template = pools[f"squrl-{env}-data-{home}"]
    pool = only(template, "AWS::Cognito::UserPool")["Properties"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["MfaConfiguration"] == synth.config.environments[env].identity.mfa
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    clients = resources(template, "AWS::Cognito::UserPoolClient")
    assert len(clients) == 2
    for client in clients.values():
        props = client["Properties"]
        assert props["AllowedOAuthFlows"] == ["code"]
        assert props["AllowedOAuthFlowsUserPoolClient"] is True
        assert props.get("GenerateSecret") in (None, False)  # public: PKCE protects the code
        assert set(props["AllowedOAuthScopes"]) >= {"openid", "email"}
        assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert only(template, "AWS::Cognito::UserPoolDomain")
    group = only(template, "AWS::Cognito::UserPoolGroup")["Properties"]
    assert group["GroupName"] == "admin"
    parameter = only(template, "AWS::SSM::Parameter")["Properties"]
    assert parameter["Name"] == f"/squrl/{env}/identity/user-pool"
    assert "client_ids" in json.dumps(parameter["Value"])


def test_federation_and_threat_protection_from_cdk_json(tmp_path):
    from aws_cdk import assertions

    from app import build_app
    from squrl_config import ENV_SELECTOR_KEY
    from tests.infra.conftest import cdk_json_context

    context = cdk_json_context()
    dev = context["squrl"]["environments"]["dev"]
    dev["identity"] = {
        "advanced_security": "ENFORCED",
        "mfa": "REQUIRED",
        "federation": [
            {"name": "Corp", "type": "SAML", "metadata_url": "https://idp.example.com/m.xml"},
            {
                "name": "Google",
                "type": "OIDC",
                "issuer": "https://accounts.google.com",
                "client_id": "abc.apps.googleusercontent.com",
                "client_secret_name": "squrl/dev/google",
            },
        ],
    }
    context[ENV_SELECTOR_KEY] = "dev"
    _, environments = build_app(context, outdir=str(tmp_path))
    stack = environments[0].home_data
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "MfaConfiguration": "ON",
            "UserPoolTier": "PLUS",
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
        },
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPoolIdentityProvider", {"ProviderName": "Corp", "ProviderType": "SAML"}
    )
    oidc = template.find_resources(
        "AWS::Cognito::UserPoolIdentityProvider", {"Properties": {"ProviderType": "OIDC"}}
    )
    (provider,) = oidc.values()
    secret = json.dumps(provider["Properties"]["ProviderDetails"]["client_secret"])
    # The template names the secret; CloudFormation resolves it at deploy time.
    assert "resolve:secretsmanager:squrl/dev/google" in secret
    providers = set(template.find_resources("AWS::Cognito::UserPoolIdentityProvider"))
    for client in template.find_resources("AWS::Cognito::UserPoolClient").values():
        offered = client["Properties"]["SupportedIdentityProviders"]
        assert "COGNITO" in offered
        assert {p["Ref"] for p in offered if isinstance(p, dict)} == providers


@pytest.mark.parametrize(("env", "region"), API_STACKS)
def test_every_api_function_knows_the_key_owner_mapping(synth, env, region):
    template = api(synth, env, region)
    expected = json.dumps(synth.config.environments[env].identity.key_owners, sort_keys=True)
    for suffix in ("-create-url", "-get-url", "-update-url", "-identity"):
        variables = function_by_name(template, suffix)["Environment"]["Variables"]
        assert variables["SQURL_KEY_OWNERS"] == expected, suffix

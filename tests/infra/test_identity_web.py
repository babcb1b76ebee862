"""The web app signs in with the environment's user pool (docs/web.md, "Sign-in in AWS";
docs/identity.md): config.json names the hosted UI, the web client and the app's own URL, the
CSP lets the page reach the hosted UI, the web client takes the app's URL back, and the CLI
client matches what `squrl login` sends.

Besides the committed environments (home region us-east-1, the edge stack's own), this module
synthesizes one of its own, once: a home region that is not us-east-1, with a short domain.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from squrl_cli.oauth import DEFAULT_SCOPES, OidcSettings
from tests.infra.conftest import cdk_json_context
from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVIRONMENTS = ("dev", "staging", "prod")
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
AWAY_REGION = "eu-west-1"
AWAY_DOMAIN = "go.mycorp.io"
SCOPES = ["openid", "email", "profile"]
CLI_CALLBACK = "http://localhost:8765/callback"


def staged_config(outdir: Path, template: dict[str, Any]) -> dict[str, Any]:
    """config.json as the BucketDeployment writes it: the staged file with its markers
    replaced by their (CloudFormation) values."""
    deployments = resources(template, "Custom::CDKBucketDeployment").values()
    (entry,) = [d for d in deployments if d["Properties"]["DestinationBucketKeyPrefix"] == "app/"]
    markers = next(m for m in entry["Properties"]["SourceMarkers"] if m)
    keys = [key.removesuffix(".zip") for key in entry["Properties"]["SourceObjectKeys"]]
    (text,) = [
        (outdir / f"asset.{key}" / "config.json").read_text()
        for key in keys
        if (outdir / f"asset.{key}" / "config.json").exists()
    ]
    for marker, value in markers.items():
        text = text.replace(marker, json.dumps({"cfn": value}))
    return json.loads(text)


def cfn_text(value: Any) -> str:
    """A marker's value, `{"cfn": Fn::Join ['', ['"', ..., '"']]}`, as one string."""
    parts = value["cfn"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)


def clients(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources(template, "AWS::Cognito::UserPoolClient")
    return {p["Properties"]["ClientName"]: p["Properties"] for p in found.values()}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_config_json_names_the_hosted_ui_the_web_client_and_the_app(synth: Any, env: str):
    template = synth.templates[f"squrl-{env}-edge-us-east-1"]
    cognito = staged_config(synth.outdir, template)["cognito"]
    assert (
        cognito["domain"] == f"https://squrl-{env}-{ACCOUNTS[env]}.auth.us-east-1.amazoncognito.com"
    )
    assert cognito["scopes"] == SCOPES
    assert cognito["token_use"] == "access"
    # The web client's id, by reference to the data stack (same region: an export).
    client_id = cfn_text(cognito["client_id"])
    assert f"squrl-{env}-data-us-east-1:" in client_id and "WebClient" in client_id
    # No short domain: the distribution's own name, /app/.
    redirect = cfn_text(cognito["redirect_uri"])
    assert redirect.startswith('"https://{"Fn::GetAtt": ["Distribution')
    assert redirect.endswith('"DomainName"]}/app/"')
    outputs = template["Outputs"]["WebAppUrl"]["Value"]["Fn::Join"][1]
    assert outputs[0] == "https://" and outputs[-1] == "/app/"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_csp_lets_the_page_reach_the_hosted_ui(synth: Any, env: str):
    template = synth.templates[f"squrl-{env}-edge-us-east-1"]
    (policy,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    parts = csp["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Join"][1]
    literal = "".join(p for p in parts if isinstance(p, str))
    connect = next(d for d in literal.split("; ") if d.startswith("connect-src"))
    assert connect.endswith(
        f" https://squrl-{env}-{ACCOUNTS[env]}.auth.us-east-1.amazoncognito.com"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_cli_client_takes_what_squrl_login_sends(synth: Any, env: str):
    template = synth.templates[f"squrl-{env}-data-us-east-1"]
    cli = clients(template)["squrl-cli"]
    assert cli.get("GenerateSecret") in (None, False)
    assert cli["AllowedOAuthFlows"] == ["code"]
    assert cli["AllowedOAuthFlowsUserPoolClient"] is True
    assert cli["AllowedOAuthScopes"] == SCOPES
    assert CLI_CALLBACK in cli["CallbackURLs"]
    # Exactly what the CLI sends by default.
    settings = OidcSettings(issuer="https://issuer", client_id="c")
    assert settings.redirect_uri == CLI_CALLBACK
    assert DEFAULT_SCOPES.split() == SCOPES


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_web_client_keeps_its_configured_callbacks(synth: Any, env: str):
    template = synth.templates[f"squrl-{env}-data-us-east-1"]
    web = clients(template)["squrl-web"]
    configured = synth.config.environments[env].identity.web_callback_urls
    assert web["CallbackURLs"] == configured
    assert web["LogoutURLs"] == configured
    assert web["AllowedOAuthFlows"] == ["code"] and web["AllowedOAuthScopes"] == SCOPES
    assert web.get("GenerateSecret") in (None, False)


# --- a home region other than us-east-1, with a short domain ----------------------------------


@dataclass
class AwaySynth:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    regions: dict[str, str]


@pytest.fixture(scope="module")
def away(tmp_path_factory: pytest.TempPathFactory) -> AwaySynth:
    from app import build_app

    context = cdk_json_context()
    environment = copy.deepcopy(context["squrl"]["environments"]["dev"])
    environment |= {
        "home_region": AWAY_REGION,
        "serving_regions": [AWAY_REGION],
        "short_domain": AWAY_DOMAIN,
    }
    environment["identity"]["domain_prefix"] = "squrl-away"
    context["squrl"] = {"environments": {"away": environment}}
    outdir = tmp_path_factory.mktemp("cdk.away")
    app, _ = build_app(context, outdir=str(outdir))  # cdk-nag stops this on any finding
    assembly = app.synth()
    return AwaySynth(
        outdir=outdir,
        templates={s.stack_name: s.template for s in assembly.stacks},
        regions={s.stack_name: s.environment.region for s in assembly.stacks},
    )


def test_away_the_web_client_takes_the_short_domain_app_back(away: AwaySynth):
    web = clients(away.templates[f"squrl-away-data-{AWAY_REGION}"])["squrl-web"]
    assert f"https://{AWAY_DOMAIN}/app/" in web["CallbackURLs"]
    assert f"https://{AWAY_DOMAIN}/app/" in web["LogoutURLs"]
    # The configured ones stay.
    assert "http://localhost:3000/app/" in web["CallbackURLs"]


def test_away_config_json_crosses_regions_to_the_pool(away: AwaySynth):
    template = away.templates["squrl-away-edge-us-east-1"]
    cognito = staged_config(away.outdir, template)["cognito"]
    assert cognito["domain"] == f"https://squrl-away.auth.{AWAY_REGION}.amazoncognito.com"
    assert cognito["redirect_uri"] == f"https://{AWAY_DOMAIN}/app/"
    # The client id comes from the home region through CDK's cross-region reference: an SSM
    # parameter the data stack writes in us-east-1, read by the edge stack as it deploys.
    client_id = cfn_text(cognito["client_id"])
    assert '"ExportsReader' in client_id
    assert "/cdk/exports/squrl-away-edge-us-east-1/squrlawaydataeuwest1" in client_id
    assert "WebClient" in client_id
    data = away.templates[f"squrl-away-data-{AWAY_REGION}"]
    assert resources(data, "Custom::CrossRegionExportWriter")
    (policy,) = resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = json.dumps(policy["Properties"]["ResponseHeadersPolicyConfig"])
    assert f"https://squrl-away.auth.{AWAY_REGION}.amazoncognito.com;" in csp


def test_away_templates_pass_cfn_lint(away: AwaySynth):
    errors = []
    for name in (f"squrl-away-data-{AWAY_REGION}", "squrl-away-edge-us-east-1"):
        path = away.outdir / f"{name}.template.json"
        for match in lint_file(path, ManualArgs(regions=[away.regions[name]])):
            if match.rule.id.startswith("E"):
                errors.append(f"{name}: {match}")
    assert errors == []

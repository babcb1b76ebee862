"""Bring your own domain: a short domain with a Route 53 zone, and one without.

The committed environments have no short domain (test_edge_stack.py covers that case), so this
module synthesizes two environments of its own, once per session, on a worker of its own:
`zoned` (two regions, a hosted zone: certificates, alias records, the `api.` host) and `unzoned`
(one region, no zone: the certificate only, and the record to publish as a stack output).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import cdk_json_context
from tests.infra.helpers import function_by_name, join, only, resources

pytestmark = [pytest.mark.xdist_group("domain-synth"), pytest.mark.infra]

ZONED_DOMAIN = "sq.mycorp.io"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
UNZONED_DOMAIN = "go.mycorp.io"
ZONED_REGIONS = ("us-east-1", "eu-west-1")
# CloudFront's fixed hosted zone id, the one every alias to a distribution names.
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"


@dataclass
class DomainSynth:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    regions: dict[str, str]


def domain_context() -> dict[str, Any]:
    context = cdk_json_context()
    environments = context["squrl"]["environments"]
    zoned = copy.deepcopy(environments["staging"])
    zoned |= {
        "serving_regions": list(ZONED_REGIONS),
        "short_domain": ZONED_DOMAIN,
        "domain": {"hosted_zone_id": ZONE_ID},
    }
    zoned["observability"]["canary"] = True
    unzoned = copy.deepcopy(environments["dev"]) | {"short_domain": UNZONED_DOMAIN}
    context["squrl"] = {"environments": {"zoned": zoned, "unzoned": unzoned}}
    return context


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> DomainSynth:
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.domain")
    app, _ = build_app(domain_context(), outdir=str(outdir))
    assembly = app.synth()
    return DomainSynth(
        outdir=outdir,
        templates={s.stack_name: s.template for s in assembly.stacks},
        regions={s.stack_name: s.environment.region for s in assembly.stacks},
    )


def edge(domains: DomainSynth, env: str) -> dict[str, Any]:
    return domains.templates[f"squrl-{env}-edge-us-east-1"]


def distribution(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = resources(template, "AWS::CloudFront::Distribution")
    assert len(found) == 1
    logical_id, resource = next(iter(found.items()))
    return logical_id, resource["Properties"]["DistributionConfig"]


# --- domain + hosted zone -------------------------------------------------------------------


def test_zone_the_edge_certificate_is_validated_in_the_zone(domains: DomainSynth) -> None:
    template = edge(domains, "zoned")
    assert domains.regions["squrl-zoned-edge-us-east-1"] == "us-east-1"  # CloudFront's region
    certificates = resources(template, "AWS::CertificateManager::Certificate")
    assert len(certificates) == 1
    cert_id, cert = next(iter(certificates.items()))
    assert cert["Properties"]["DomainName"] == ZONED_DOMAIN
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    assert cert["Properties"]["DomainValidationOptions"] == [
        {"DomainName": ZONED_DOMAIN, "HostedZoneId": ZONE_ID}
    ]
    _, config = distribution(template)
    assert config["Aliases"] == [ZONED_DOMAIN]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": cert_id},
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }


def test_zone_alias_records_point_the_short_domain_at_the_distribution(
    domains: DomainSynth,
) -> None:
    template = edge(domains, "zoned")
    distribution_id, config = distribution(template)
    assert config["IPV6Enabled"] is True
    records = [r["Properties"] for r in resources(template, "AWS::Route53::RecordSet").values()]
    assert sorted(r["Type"] for r in records) == ["A", "AAAA"]
    for record in records:
        assert record["Name"] == f"{ZONED_DOMAIN}."
        assert record["HostedZoneId"] == ZONE_ID
        target = record["AliasTarget"]
        assert target["DNSName"] == {"Fn::GetAtt": [distribution_id, "DomainName"]}
        map_name, _, key = target["HostedZoneId"]["Fn::FindInMap"]
        assert template["Mappings"][map_name]["aws"][key] == CLOUDFRONT_ZONE
    # Nothing left for the operator to publish.
    assert "ShortDomainRecord" not in template.get("Outputs", {})


@pytest.mark.parametrize("region", ZONED_REGIONS)
def test_zone_each_region_serves_the_api_host_with_its_own_certificate(
    domains: DomainSynth, region: str
) -> None:
    template = domains.templates[f"squrl-zoned-api-{region}"]
    host = f"api.{ZONED_DOMAIN}"
    cert_id, cert = next(iter(resources(template, "AWS::CertificateManager::Certificate").items()))
    assert cert["Properties"]["DomainName"] == host
    assert cert["Properties"]["DomainValidationOptions"] == [
        {"DomainName": host, "HostedZoneId": ZONE_ID}
    ]
    domain_id, domain = next(iter(resources(template, "AWS::ApiGateway::DomainName").items()))
    assert domain["Properties"] | {"Tags": None} == {
        "Tags": None,
        "DomainName": host,
        "EndpointConfiguration": {"Types": ["REGIONAL"]},
        "RegionalCertificateArn": {"Ref": cert_id},
        "SecurityPolicy": "TLS_1_2",
    }
    mapping = only(template, "AWS::ApiGateway::BasePathMapping")["Properties"]
    stage_id = next(iter(resources(template, "AWS::ApiGateway::Stage")))
    api_id = next(iter(resources(template, "AWS::ApiGateway::RestApi")))
    # The whole host is the stage: no base path.
    assert mapping == {
        "DomainName": {"Ref": domain_id},
        "RestApiId": {"Ref": api_id},
        "Stage": {"Ref": stage_id},
    }


@pytest.mark.parametrize("region", ZONED_REGIONS)
def test_zone_latency_record_per_region_with_a_health_check_on_health(
    domains: DomainSynth, region: str
) -> None:
    template = domains.templates[f"squrl-zoned-api-{region}"]
    check_id, check = next(iter(resources(template, "AWS::Route53::HealthCheck").items()))
    config = check["Properties"]["HealthCheckConfig"]
    api_id = next(iter(resources(template, "AWS::ApiGateway::RestApi")))
    # This region's own stage, so the check judges this region alone.
    assert join(config["FullyQualifiedDomainName"]) == (
        f"${{{api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
    )
    assert config["ResourcePath"] == "/zoned/health"
    assert (config["Type"], config["Port"], config["EnableSNI"]) == ("HTTPS", 443, True)
    assert (config["RequestInterval"], config["FailureThreshold"]) == (30, 3)
    record = only(template, "AWS::Route53::RecordSet")["Properties"]
    domain_id = next(iter(resources(template, "AWS::ApiGateway::DomainName")))
    assert record["Name"] == f"api.{ZONED_DOMAIN}."
    assert record["Type"] == "A"
    assert record["HostedZoneId"] == ZONE_ID
    assert (record["Region"], record["SetIdentifier"]) == (region, region)
    assert record["HealthCheckId"] == {"Ref": check_id}
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}


def test_zone_links_use_the_short_domain_and_refuse_both_own_hosts(domains: DomainSynth) -> None:
    for region in ZONED_REGIONS:
        template = domains.templates[f"squrl-zoned-api-{region}"]
        for suffix in ("-create-url", "-redirect"):
            variables = function_by_name(template, suffix)["Environment"]["Variables"]
            assert variables["SQURL_SHORT_BASE_URL"] == f"https://{ZONED_DOMAIN}"
            hosts = join(variables["SQURL_OWN_HOSTS"]).split(",")
            assert hosts[:2] == [ZONED_DOMAIN, f"api.{ZONED_DOMAIN}"]
            assert ".execute-api." in hosts[2]
        assert template["Outputs"]["ApiHostUrl"]["Value"] == f"https://api.{ZONED_DOMAIN}"


def test_zone_the_canary_creates_at_the_api_host_and_follows_the_short_domain(
    domains: DomainSynth,
) -> None:
    template = domains.templates["squrl-zoned-observability-us-east-1"]
    variables = only(template, "AWS::Synthetics::Canary")["Properties"]["RunConfig"][
        "EnvironmentVariables"
    ]
    assert variables["API_URL"] == f"https://api.{ZONED_DOMAIN}"
    assert variables["SHORT_BASE_URL"] == f"https://{ZONED_DOMAIN}"


# --- domain without a zone ------------------------------------------------------------------


def test_no_zone_the_certificate_waits_for_the_operators_record(domains: DomainSynth) -> None:
    template = edge(domains, "unzoned")
    cert_id, cert = next(iter(resources(template, "AWS::CertificateManager::Certificate").items()))
    assert cert["Properties"]["DomainName"] == UNZONED_DOMAIN
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    # No zone to write the validation record in: the operator publishes it (docs/deploy.md).
    assert "HostedZoneId" not in json.dumps(cert["Properties"])
    distribution_id, config = distribution(template)
    assert config["Aliases"] == [UNZONED_DOMAIN]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": cert_id}
    assert not resources(template, "AWS::Route53::RecordSet")
    output = join(template["Outputs"]["ShortDomainRecord"]["Value"])
    assert output.startswith(f"{UNZONED_DOMAIN}. CNAME ${{{distribution_id}.DomainName}}.")


def test_no_zone_no_api_host_and_links_still_use_the_short_domain(domains: DomainSynth) -> None:
    template = domains.templates["squrl-unzoned-api-us-east-1"]
    for kind in (
        "AWS::ApiGateway::DomainName",
        "AWS::Route53::HealthCheck",
        "AWS::Route53::RecordSet",
        "AWS::CertificateManager::Certificate",
    ):
        assert not resources(template, kind), kind
    variables = function_by_name(template, "-create-url")["Environment"]["Variables"]
    assert variables["SQURL_SHORT_BASE_URL"] == f"https://{UNZONED_DOMAIN}"
    assert "ApiHostUrl" not in template["Outputs"]


# --- both -----------------------------------------------------------------------------------


def test_domain_templates_pass_cfn_lint(domains: DomainSynth) -> None:
    errors = []
    for path in sorted(domains.outdir.glob("*.template.json")):
        region = domains.regions[path.name.removesuffix(".template.json")]
        if not any(kind in path.name for kind in ("-edge-", "-api-", "-observability-")):
            continue
        for match in lint_file(path, ManualArgs(regions=[region])):
            if match.rule.id.startswith("E"):
                errors.append(f"{path.name}: {match}")
    assert errors == []

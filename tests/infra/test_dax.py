"""The DAX cache: in each region's API stack, derived zones, destroyable, never exported."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.contracts import names
from tests.infra.helpers import join, only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

PROD_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
# What the DAX cache is made of: none of it may be named by another stack.
CACHE_KINDS = ("AWS::DAX::", "AWS::EC2::")


def _imports(value: Any) -> list[str]:
    """Every export name an Fn::ImportValue in `value` reads."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::ImportValue":
                found.append(join(item))
            else:
                found += _imports(item)
    elif isinstance(value, list):
        for item in value:
            found += _imports(item)
    return found


def _exported_resources(synth) -> dict[str, tuple[str, str]]:
    """Export name -> (exporting stack, type of the resource its value refers to)."""
    exported = {}
    for stack_name, template in synth.templates.items():
        for output in template.get("Outputs", {}).values():
            if "Export" not in output:
                continue
            value = output["Value"]
            logical_id = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
            kind = template["Resources"][logical_id]["Type"]
            exported[join(output["Export"]["Name"])] = (stack_name, kind)
    return exported


def test_no_dax_or_network_attribute_crosses_stacks(synth):
    exported = _exported_resources(synth)
    imported = [name for template in synth.templates.values() for name in _imports(template)]
    assert imported, "the test must see the imports that do exist (the edge's origins)"
    for name in imported:
        stack, kind = exported[name]
        assert not kind.startswith(CACHE_KINDS), f"{name} ({kind}) is imported from {stack}"
    for name, (stack, kind) in exported.items():
        assert not kind.startswith(CACHE_KINDS), f"{stack} exports {name} ({kind})"


def test_only_the_home_region_has_a_data_stack(synth):
    # The cache moved into the API stacks; a data stack elsewhere would hold nothing.
    for env, config in synth.config.environments.items():
        data = sorted(n for n in synth.templates if n.startswith(f"squrl-{env}-data-"))
        assert data == [f"squrl-{env}-data-{config.home_region}"]


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_prod_has_an_encrypted_dax_cluster_per_region_in_its_api_stack(synth, region):
    template = synth.templates[f"squrl-prod-api-{region}"]
    cluster = only(template, "AWS::DAX::Cluster")
    props = cluster["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["ClusterEndpointEncryptionType"] == "TLS"
    assert props["ReplicationFactor"] == 3
    assert props["NodeType"] == synth.config.environments["prod"].dax.node_type
    # The cluster admits DAX's TLS port from the functions' group only.
    ingress = [
        rule
        for sg in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        for rule in [sg["Properties"]]
        if rule.get("FromPort") == 9111
    ]
    assert len(ingress) == 1 and "SourceSecurityGroupId" in ingress[0]
    assert not resources(template, "AWS::EC2::NatGateway")


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_cache_is_deleted_with_its_stack_and_replaceable(synth, region):
    template = synth.templates[f"squrl-prod-api-{region}"]
    # Logical ids start with the construct path: everything under the stack's `Cache`.
    cache = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if logical_id.startswith("Cache")
    }
    assert {r["Type"] for r in cache.values()} >= {
        "AWS::DAX::Cluster",
        "AWS::DAX::SubnetGroup",
        "AWS::DAX::ParameterGroup",
        "AWS::EC2::VPC",
        "AWS::EC2::SecurityGroup",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
    }
    for logical_id, resource in cache.items():
        assert resource.get("DeletionPolicy", "Delete") == "Delete", logical_id
    # No fixed name: a node type change replaces the cluster, which CloudFormation can only do
    # by creating the new one under another name before deleting the old one.
    assert "ClusterName" not in only(template, "AWS::DAX::Cluster")["Properties"]


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_cache_zones_are_the_accounts_first_three(synth, region):
    template = synth.templates[f"squrl-prod-api-{region}"]
    subnets = resources(template, "AWS::EC2::Subnet").values()
    zones = [subnet["Properties"]["AvailabilityZone"] for subnet in subnets]
    assert sorted(json.dumps(z) for z in zones) == sorted(
        json.dumps({"Fn::Select": [index, {"Fn::GetAZs": ""}]}) for index in range(3)
    )


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_dax_service_role_does_only_what_the_redirect_asks(synth, region):
    template = synth.templates[f"squrl-prod-api-{region}"]
    cluster = only(template, "AWS::DAX::Cluster")["Properties"]
    role_id = cluster["IAMRoleARN"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # The redirect's one call through DAX is GetItem; DAX also reads the key schema.
    (statement,) = statements
    assert sorted(statement["Action"]) == ["dynamodb:DescribeTable", "dynamodb:GetItem"]
    account = synth.config.environments["prod"].account
    table = names.table_name("prod")
    assert join(statement["Resource"]).endswith(f":dynamodb:{region}:{account}:table/{table}")


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_dax_ttls_come_from_config_not_the_five_minute_default(synth, region):
    config = synth.config.environments["prod"]
    template = synth.templates[f"squrl-prod-api-{region}"]
    group_id, group = next(iter(resources(template, "AWS::DAX::ParameterGroup").items()))
    assert group["Properties"]["ParameterNameValues"] == {
        "record-ttl-millis": str(config.dax.record_ttl_millis),
        "query-ttl-millis": str(config.dax.query_ttl_millis),
    }
    assert config.dax.record_ttl_millis == 10_000
    cluster = only(template, "AWS::DAX::Cluster")["Properties"]
    assert cluster["ParameterGroupName"] == {"Ref": group_id}

from __future__ import annotations

import pytest

from shared.contracts import names
from shared.contracts import table as table_def
from tests.infra.helpers import join, only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVS = ["dev", "staging", "prod"]


def home_template(synth, env):
    config = synth.config.environments[env]
    return synth.templates[f"squrl-{env}-data-{config.home_region}"]


@pytest.mark.parametrize("env", ENVS)
def test_global_table_follows_shared_table_definition(synth, env):
    table = only(home_template(synth, env), "AWS::DynamoDB::GlobalTable")
    props = table["Properties"]
    assert props["TableName"] == names.table_name(env)
    assert props["KeySchema"] == [{"AttributeName": table_def.PARTITION_KEY, "KeyType": "HASH"}]
    declared = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert declared == {"short_code": "S", "original_url": "S", "created_at": "S", "owner_id": "S"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": table_def.STREAM_VIEW_TYPE}
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": table_def.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert props["SSESpecification"]["SSEEnabled"] is True
    indexes = {index["IndexName"]: index for index in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"original-url-index", "owner-index"}
    # GET /urls: an owner's links, newest first, every attribute projected (one Query a page).
    owner = indexes["owner-index"]
    assert owner["KeySchema"] == [
        {"AttributeName": "owner_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert owner["Projection"] == {"ProjectionType": "ALL"}
    index = indexes["original-url-index"]
    assert index["IndexName"] == table_def.DEDUP_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": table_def.DEDUP_INDEX_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": table_def.DEDUP_INDEX_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(
        table_def.DEDUP_INDEX_PROJECTION
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_serving_region_has_a_protected_replica(synth, env):
    config = synth.config.environments[env]
    props = only(home_template(synth, env), "AWS::DynamoDB::GlobalTable")["Properties"]
    replicas = {r["Region"]: r for r in props["Replicas"]}
    assert set(replicas) == set(config.serving_regions)
    for region, replica in replicas.items():
        assert replica["DeletionProtectionEnabled"] is True, region
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, (
            region
        )


@pytest.mark.parametrize(
    ("env", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")]
)
def test_table_removal_policy_per_environment(synth, env, policy):
    table = only(home_template(synth, env), "AWS::DynamoDB::GlobalTable")
    assert table["DeletionPolicy"] == policy
    assert table["UpdateReplacePolicy"] == policy


def test_table_exists_once_per_environment(synth):
    for env in ENVS:
        tables = [
            name
            for name, template in synth.templates.items()
            if name.startswith(f"squrl-{env}-")
            and resources(template, "AWS::DynamoDB::GlobalTable")
        ]
        assert tables == [f"squrl-{env}-data-us-east-1"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1"])
def test_prod_has_an_encrypted_dax_cluster_per_region(synth, region):
    template = synth.templates[f"squrl-prod-data-{region}"]
    cluster = only(template, "AWS::DAX::Cluster")["Properties"]
    assert cluster["SSESpecification"] == {"SSEEnabled": True}
    assert cluster["ClusterEndpointEncryptionType"] == "TLS"
    assert cluster["ReplicationFactor"] == 3
    # The cluster admits DAX's TLS port from the functions' group only.
    ingress = [
        rule
        for sg in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        for rule in [sg["Properties"]]
        if rule.get("FromPort") == 9111
    ]
    assert len(ingress) == 1 and "SourceSecurityGroupId" in ingress[0]
    assert not resources(template, "AWS::EC2::NatGateway")
    zones = {
        s["Properties"]["AvailabilityZone"]
        for s in resources(template, "AWS::EC2::Subnet").values()
    }
    assert zones == {f"{region}a", f"{region}b", f"{region}c"}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1"])
def test_dax_service_role_does_only_what_the_redirect_asks(synth, region):
    template = synth.templates[f"squrl-prod-data-{region}"]
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


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1"])
def test_dax_ttls_come_from_config_not_the_five_minute_default(synth, region):
    config = synth.config.environments["prod"]
    template = synth.templates[f"squrl-prod-data-{region}"]
    group_id, group = next(iter(resources(template, "AWS::DAX::ParameterGroup").items()))
    assert group["Properties"]["ParameterNameValues"] == {
        "record-ttl-millis": str(config.dax.record_ttl_millis),
        "query-ttl-millis": str(config.dax.query_ttl_millis),
    }
    assert config.dax.record_ttl_millis == 10_000
    cluster = only(template, "AWS::DAX::Cluster")["Properties"]
    assert cluster["ParameterGroupName"] == {"Ref": group_id}


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_dax_is_off_where_configured(synth, env):
    for name, template in synth.templates.items():
        if name.startswith(f"squrl-{env}-"):
            assert not resources(template, "AWS::DAX::Cluster"), name
            assert not resources(template, "AWS::EC2::VPC"), name

from __future__ import annotations

import pytest

from shared.contracts import names
from shared.contracts import table as table_def
from tests.infra.helpers import only, resources

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


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_dax_is_off_where_configured(synth, env):
    for name, template in synth.templates.items():
        if name.startswith(f"squrl-{env}-"):
            assert not resources(template, "AWS::DAX::Cluster"), name
            assert not resources(template, "AWS::EC2::VPC"), name

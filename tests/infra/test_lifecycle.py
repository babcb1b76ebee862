"""Tearing an environment down and deploying it again: what is kept, and that it can be.

With `retain_data`, only the data is kept: the table (with its backups) under its fixed name, and
the click lake's buckets, whose names are generated, so a new deploy makes new ones beside them.
Anything else kept under a fixed name would make the next deploy fail with "already exists";
anything kept while what it references is deleted would be left broken (and billing).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

# Resource types kept under a fixed name on purpose; docs/deploy.md says how the next deploy
# adopts them.
KEPT_BY_NAME = {"AWS::DynamoDB::GlobalTable"}
# The property that holds a type's own name, where it is not `<Kind>Name` or `Name`.
NAME_PROPERTY = {
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogStream": "LogStreamName",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
}
# Kept resources whose references are deleted with the stack, and why that is fine.
KEPT_REFERENCES_DELETED: dict[tuple[str, str], str] = {}


def _fixed_name(resource: dict[str, Any]) -> Any:
    kind = resource["Type"]
    props = resource.get("Properties", {})
    for key in (NAME_PROPERTY.get(kind), f"{kind.split('::')[-1]}Name", "Name"):
        if key and key in props:
            return props[key]
    return None


def _retained(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if "Retain" in (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
    }


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value:
            # Names in ${...} that are logical ids; pseudo parameters are filtered by the caller.
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found |= {part.split("}")[0].split(".")[0] for part in text.split("${")[1:]}
        for item in value.values():
            found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def test_nothing_kept_under_a_fixed_name_but_the_table(synth):
    for stack, template in synth.templates.items():
        for logical_id, resource in _retained(template).items():
            if _fixed_name(resource) is not None:
                assert resource["Type"] in KEPT_BY_NAME, (stack, logical_id, _fixed_name(resource))


def test_the_table_is_kept_where_data_is_retained(synth):
    for env, config in synth.config.environments.items():
        template = synth.templates[f"squrl-{env}-data-{config.home_region}"]
        (table,) = resources(template, "AWS::DynamoDB::GlobalTable").values()
        expected = "Retain" if config.retain_data else "Delete"
        assert table["DeletionPolicy"] == expected, env


def test_nothing_kept_refers_to_something_deleted(synth):
    checked = 0
    for stack, template in synth.templates.items():
        kept = _retained(template)
        for logical_id, resource in kept.items():
            body = {k: v for k, v in resource.items() if k in ("Properties", "DependsOn")}
            for ref in _references(body) & set(template["Resources"]):
                checked += 1
                if (logical_id, ref) in KEPT_REFERENCES_DELETED:
                    continue
                assert ref in kept, f"{stack}: {logical_id} is kept, but {ref} is deleted"
    # The API's logging role and account setting are kept together; the lake bucket with its
    # access-log bucket.
    assert checked > 0


def test_the_check_sees_a_kept_resource_whose_reference_is_deleted():
    template = {
        "Resources": {
            "Cluster": {
                "Type": "AWS::DAX::Cluster",
                "DeletionPolicy": "Retain",
                "Properties": {"SubnetGroupName": {"Ref": "Subnets"}},
            },
            "Subnets": {"Type": "AWS::DAX::SubnetGroup", "Properties": {}},
        }
    }
    kept = _retained(template)
    assert _references(kept["Cluster"]["Properties"]) == {"Subnets"}
    assert "Subnets" not in kept

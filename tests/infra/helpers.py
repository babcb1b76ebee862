"""Small readers over synthesized CloudFormation templates."""

from __future__ import annotations

from typing import Any


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == kind
    }


def only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.values()))


def resource_paths(template: dict[str, Any]) -> dict[str, str]:
    """Logical id of each API Gateway resource (and the root) -> its full path."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = api_resources[logical_id]["Properties"]
            parent = props["ParentId"]
            parent_path = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{parent_path}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in api_resources:
        path_of(logical_id)
    return paths


def methods(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> method properties, for every method in the template."""
    paths = resource_paths(template)
    found = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        ref = props["ResourceId"]
        path = paths[ref["Ref"]] if "Ref" in ref else "/"
        found[(props["HttpMethod"], path)] = props
    return found


def function_by_name(template: dict[str, Any], suffix: str) -> dict[str, Any]:
    for function in resources(template, "AWS::Lambda::Function").values():
        if function["Properties"]["FunctionName"].endswith(suffix):
            return function["Properties"]
    raise AssertionError(f"no function ending in {suffix!r}")


def policy_statements_of_role(template: dict[str, Any], role_logical_id: str) -> list[dict]:
    statements: list[dict] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = policy["Properties"].get("Roles", [])
        if {"Ref": role_logical_id} in roles:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def function_logical_id(template: dict[str, Any], suffix: str) -> str:
    for logical_id, function in resources(template, "AWS::Lambda::Function").items():
        if function["Properties"]["FunctionName"].endswith(suffix):
            return logical_id
    raise AssertionError(f"no function ending in {suffix!r}")


def role_of_function(template: dict[str, Any], suffix: str) -> str:
    props = function_by_name(template, suffix)
    return props["Role"]["Fn::GetAtt"][0]


def join(value: Any) -> str:
    """Render an Fn::Join / Ref value as readable text, for assertions on ARNs and URLs."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(join(part) for part in parts)
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::ImportValue" in value:
            return "${Import:" + join(value["Fn::ImportValue"]) + "}"
    return str(value)

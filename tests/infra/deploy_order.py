"""What a deploy of a changed app does to the exports between stacks.

CloudFormation refuses to update a stack that would remove or change an export another stack
still imports ("Export ... cannot be deleted/updated as it is in use"), and `cdk deploy` updates
producers before their consumers, so an export whose last importer is only changed later in the
same deploy blocks it. CDK's cross-region references (SSM parameters written by a custom
resource, read by another) refuse the same. Comparing the templates of the deployed app
(`before`) with those of the changed app (`after`) finds every such export in advance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Templates = Mapping[str, dict[str, Any]]

# Resource types whose exported Ref/attributes survive any update of their properties (none of
# their properties requires replacement), so a changed resource still exports the same value.
# Any other exported resource whose properties change might be replaced, and its exported value
# with it; a new type earns its place here by checking the CloudFormation reference.
STABLE_ON_UPDATE = ("AWS::CloudFront::Distribution", "AWS::ApiGateway::RestApi")


@dataclass(frozen=True)
class Export:
    stack: str
    name: str
    value: str  # the template expression, as JSON
    resource: str | None  # the logical id the value refers to


def _refers_to(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def exports(templates: Templates) -> dict[str, Export]:
    """Every export by name: CloudFormation exports and CDK's cross-region SSM exports."""
    found: dict[str, Export] = {}
    for stack, template in templates.items():
        for output in template.get("Outputs", {}).values():
            if "Export" in output:
                name = json.dumps(output["Export"]["Name"])
                value = output["Value"]
                found[name] = Export(stack, name, json.dumps(value), _refers_to(value))
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "Custom::CrossRegionExportWriter":
                for name, value in resource["Properties"]["WriterProps"]["exports"].items():
                    key = json.dumps(name)
                    found[key] = Export(stack, key, json.dumps(value), _refers_to(value))
    return found


def _import_names(value: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::ImportValue":
                names.add(json.dumps(item))
            else:
                names |= _import_names(item)
    elif isinstance(value, list):
        for item in value:
            names |= _import_names(item)
    return names


def imports(templates: Templates) -> dict[str, set[str]]:
    """Stack -> the names of the exports it reads."""
    found: dict[str, set[str]] = {}
    for stack, template in templates.items():
        names = _import_names(template.get("Resources", {})) | _import_names(
            template.get("Outputs", {})
        )
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "Custom::CrossRegionExportReader":
                names |= {json.dumps(n) for n in resource["Properties"]["ReaderProps"]["imports"]}
        found[stack] = names
    return found


def _resource(templates: Templates, export: Export) -> dict[str, Any] | None:
    if export.resource is None:
        return None
    resource: dict[str, Any] | None = templates[export.stack]["Resources"].get(export.resource)
    return resource


def blocked_exports(before: Templates, after: Templates) -> list[str]:
    """Why deploying `after` over a deployed `before` would meet an export in use; [] if never.

    An export is in use when a deployed stack other than its producer imports it. Deploying the
    changed app must keep every export in use: same name, same value, and a value that cannot
    change under it (its resource unchanged, or of a type no update replaces). A stack that
    leaves the app is deleted after the deploy (docs/deploy.md); by then nothing in the
    changed app may import from it.
    """
    old_exports, new_exports = exports(before), exports(after)
    old_imports, new_imports = imports(before), imports(after)
    problems: list[str] = []
    for name, export in old_exports.items():
        importers = sorted(
            s for s, names in old_imports.items() if name in names and s != export.stack
        )
        if not importers:
            continue
        if export.stack not in after:
            still = sorted(s for s, names in new_imports.items() if name in names)
            if still:
                problems.append(f"{export.stack} leaves the app, but {still} import {name}")
            continue
        new = new_exports.get(name)
        if new is None or new.stack != export.stack:
            problems.append(f"{export.stack} drops {name}, still imported by {importers}")
            continue
        if new.value != export.value:
            problems.append(f"{export.stack} changes {name}, imported by {importers}")
            continue
        old_resource, new_resource = _resource(before, export), _resource(after, new)
        if old_resource is None or new_resource is None:
            continue
        changed = old_resource.get("Properties") != new_resource.get("Properties")
        if changed and new_resource["Type"] not in STABLE_ON_UPDATE:
            problems.append(
                f"{export.stack} changes {export.resource} ({new_resource['Type']}), whose "
                f"value {name} {importers} import: a replacement would change it"
            )
    return problems


def leaving(before: Templates, after: Templates) -> list[str]:
    """Stacks of `before` that the changed app no longer has: deleted by hand after the deploy."""
    return sorted(set(before) - set(after))

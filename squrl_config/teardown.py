"""What `make destroy ENV=name` keeps, read from the environment's synthesized templates.

    python -m squrl_config.teardown CLOUD_ASSEMBLY_DIR ENV

A resource whose DeletionPolicy is Retain survives its stack's deletion. With a fixed name
(`squrl-urls-prod`), the next `make deploy` adopts it: the deploy asks CloudFormation to import
existing resources whose static names its templates hold (`--import-existing-resources`), so
the kept table comes back with its data and backups instead of failing with "already exists".
A kept resource without a fixed name is only left behind: the next deploy makes a new one.
The user pool is one of those, and its users' ids (the owners of their links) live only in it:
it is adopted by setting `identity.user_pool_id` to its id before the next deploy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RETAINED = ("Retain", "RetainExceptOnCreate")
# The property that holds a resource's physical name, for the types squrl names.
NAME_PROPERTIES = (
    "TableName",
    "LogGroupName",
    "QueueName",
    "BucketName",
    "ClusterName",
    "RoleName",
    "TopicName",
    "FunctionName",
    "Name",
)


@dataclass(frozen=True)
class Kept:
    stack: str
    logical_id: str
    type: str
    # The static physical name, when the template fixes one; None when CloudFormation made it.
    name: str | None

    @property
    def adopted(self) -> bool:
        return self.name is not None


def static_name(properties: dict[str, Any]) -> str | None:
    for key in NAME_PROPERTIES:
        value = properties.get(key)
        if isinstance(value, str):
            return value
    return None


def _templates(assembly: Path, env: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name.removesuffix(".template.json"), json.loads(path.read_text()))
        for path in sorted(assembly.glob(f"squrl-{env}-*.template.json"))
    ]


def kept_resources(assembly: Path, env: str) -> list[Kept]:
    kept = []
    for stack, template in _templates(assembly, env):
        for logical_id, resource in template.get("Resources", {}).items():
            if resource.get("DeletionPolicy") in RETAINED:
                kept.append(
                    Kept(
                        stack,
                        logical_id,
                        resource["Type"],
                        static_name(resource.get("Properties", {})),
                    )
                )
    return kept


def protected_tables(assembly: Path, env: str) -> list[str]:
    """Tables the stacks delete but deletion protection keeps: `cdk destroy` stops at them."""
    found = []
    for _, template in _templates(assembly, env):
        for resource in template.get("Resources", {}).values():
            if resource["Type"] != "AWS::DynamoDB::GlobalTable":
                continue
            if resource.get("DeletionPolicy") in RETAINED:
                continue
            props = resource.get("Properties", {})
            if any(r.get("DeletionProtectionEnabled") for r in props.get("Replicas", [])):
                found.append(props.get("TableName", "the table"))
    return found


USER_POOL = "AWS::Cognito::UserPool"


def fate(item: Kept, env: str) -> str:
    if item.adopted:
        return "adopted by the next make deploy"
    if item.type == USER_POOL:
        return (
            "kept with its users, and NOT adopted by itself: before the next make deploy set "
            "identity.user_pool_id to its id (the data stack's UserPoolId output, or pool_id "
            f"in the SSM parameter /squrl/{env}/identity/user-pool of the home region), or the "
            "next deploy makes a new, empty pool and every user gets a new id"
        )
    return "left behind; the next deploy makes a new one"


def render(kept: Sequence[Kept], env: str, protected: Sequence[str] = ()) -> str:
    lines = []
    for table in protected:
        lines.append(
            f"{table} has deletion protection and is deleted with its stack: switch it off "
            f"first (aws dynamodb update-table --table-name {table} "
            "--no-deletion-protection-enabled, in every replica region), or the data stack's "
            "deletion stops there."
        )
    if not kept:
        lines.append(f"make destroy ENV={env} keeps nothing: every resource goes with its stack.")
        return "\n".join(lines)
    lines.append(f"make destroy ENV={env} keeps {len(kept)} resource(s):")
    for item in kept:
        what = f"{item.type} {item.name or item.logical_id} ({item.stack})"
        lines.append(f"  {what}: {fate(item, env)}")
    lines.append(
        "Kept resources go on billing (storage, backups) until deleted by hand "
        "(docs/deploy.md, 'Tear down')."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m squrl_config.teardown CLOUD_ASSEMBLY_DIR ENV", file=sys.stderr)
        return 2
    assembly, env = Path(args[0]), args[1]
    if not any(assembly.glob(f"squrl-{env}-*.template.json")):
        print(f"no templates of {env!r} in {assembly}", file=sys.stderr)
        return 2
    print(render(kept_resources(assembly, env), env, protected_tables(assembly, env)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The stacks of a synthesized cloud assembly, grouped by environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Stack names read squrl-{env}-{role}-{region} (shared/contracts/names.py).
_PREFIX = "squrl-"


@dataclass(frozen=True)
class Stack:
    name: str
    env: str
    role: str
    region: str
    template: dict[str, Any]

    def resources(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource["Type"] == kind:
                yield logical_id, resource.get("Properties", {})

    def count(self, kind: str) -> int:
        return sum(1 for _ in self.resources(kind))

    def resource(self, logical_id: str) -> dict[str, Any]:
        return dict(self.template["Resources"][logical_id].get("Properties", {}))


@dataclass
class Environment:
    name: str
    stacks: list[Stack] = field(default_factory=list)

    def role(self, role: str) -> list[Stack]:
        return [s for s in self.stacks if s.role == role]

    def one(self, role: str, region: str | None = None) -> Stack | None:
        found = [s for s in self.role(role) if region is None or s.region == region]
        return found[0] if found else None

    @property
    def regions(self) -> list[str]:
        """The serving regions: where an API stack is, in the assembly's order."""
        return [s.region for s in self.role("api")]


def read_assembly(outdir: Path) -> dict[str, Environment]:
    """Every squrl stack in the assembly at `outdir` (cdk.out, .build/cdk.lint, ...)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    environments: dict[str, Environment] = {}
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack" or not name.startswith(_PREFIX):
            continue
        region = artifact["environment"].rsplit("/", 1)[-1]
        env, role = name[len(_PREFIX) :].removesuffix(f"-{region}").split("-", 1)
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        stack = Stack(name=name, env=env, role=role, region=region, template=template)
        environments.setdefault(env, Environment(env)).stacks.append(stack)
    return environments

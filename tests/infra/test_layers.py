"""Layers only point down: runtime <- configuration <- constructs <- stacks <- app.

Read from the source, so a wrong import fails here before it tangles the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.infra.conftest import REPO_ROOT

pytestmark = pytest.mark.infra

INFRASTRUCTURE = {"app", "stacks", "cdk_constructs", "squrl_config", "aws_cdk", "constructs"}
# Package (or module) -> top-level names it must never import.
FORBIDDEN = {
    "shared": INFRASTRUCTURE,
    "functions": INFRASTRUCTURE,
    "squrl_config": INFRASTRUCTURE - {"squrl_config"},
    "cdk_constructs": {"app", "stacks"},
    "stacks": {"app"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations(package: str) -> list[str]:
    return [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for name in sorted(imported_packages(path) & FORBIDDEN[package])
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package):
    assert violations(package) == []


def test_a_wrong_import_is_seen(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from stacks.api_stack import ApiStack\n")
    assert imported_packages(probe) & FORBIDDEN["cdk_constructs"] == {"stacks"}

"""The import contracts in pyproject.toml hold, and they bite: a deliberate violation fails them.

`make lint` runs lint-imports over the repository; these tests run the same command on a copy, so a
contract that stopped catching its violation (a typo in a module name, a layer dropped) is noticed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "shared",
    "functions",
    "stacks",
    "cdk_constructs",
    "squrl_config",
    "devserver",
    "bench",
    "squrl_cli",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_repository_keeps_every_contract() -> None:
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # The hot path may not pay for pydantic, and redirect may not lean on links.
        (
            "shared/redirect/answer.py",
            "from shared.links.models import REDIRECT_TYPES",
            "The redirect hot path",
        ),
        # A layer pointing up: the contracts importing the runtime above them.
        ("shared/contracts/table.py", "from shared.settings import settings", "runtime library"),
        # Runtime code importing the CDK.
        ("shared/links/service.py", "import aws_cdk", "Runtime code never imports"),
        # A layer pointing up across the top-level packages.
        ("squrl_config/models.py", "import stacks.data_stack", "Layers only point down"),
        ("cdk_constructs/core/compliance.py", "import stacks", "Layers only point down"),
        ("stacks/data_stack.py", "import app", "Nothing imports app.py"),
        # The CLI reaching into the runtime instead of talking HTTP.
        ("squrl_cli/client.py", "import shared.contracts.routes", "talk HTTP only"),
        # A cycle between two modules of one package.
        ("shared/clicks/events.py", "from shared.clicks import producer", "No import cycles"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    scratch: Path, module: str, line: str, broken: str
) -> None:
    path = scratch / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(scratch)
    assert result.returncode != 0
    assert any(
        broken in text and text.rstrip().endswith("BROKEN")
        for text in _contract_lines(result.stdout)
    ), result.stdout


def _contract_lines(output: str) -> list[str]:
    """Each contract's summary line (lint-imports wraps long names over two lines)."""
    lines = output.splitlines()
    joined: list[str] = []
    for index, text in enumerate(lines):
        if text.rstrip().endswith(("KEPT", "BROKEN")):
            previous = lines[index - 1] if index else ""
            joined.append(
                f"{previous} {text}" if not previous.endswith(("KEPT", "BROKEN")) else text
            )
    return joined

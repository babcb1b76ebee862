"""One synthesis of the whole app per test session, shared by every infrastructure test.

Every infra module carries `pytest.mark.xdist_group("synth")`, so under `--dist loadgroup` a
single worker runs them all and this session fixture synthesizes once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    outdir: Path
    environments: dict[str, Any]  # env name -> app.EnvironmentStacks
    templates: dict[str, dict[str, Any]]  # stack name -> template
    stack_regions: dict[str, str]
    config: Any  # squrl_config.SqurlConfig


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from app import build_app
    from squrl_config import load_config

    context = cdk_json_context()
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, environments = build_app(context, outdir=str(outdir))
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    regions = {stack.stack_name: stack.environment.region for stack in assembly.stacks}
    return Synthesized(
        outdir=outdir,
        environments={env.config.name: env for env in environments},
        templates=templates,
        stack_regions=regions,
        config=load_config(context),
    )


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    return cdk_json_context()

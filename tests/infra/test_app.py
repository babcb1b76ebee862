from __future__ import annotations

import json
import re

import pytest

from app import build_app
from tests.infra.conftest import cdk_json_context

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


def test_stack_names_read_as_a_table_of_contents(synth):
    for name, region in synth.stack_regions.items():
        assert re.fullmatch(rf"squrl-(dev|staging|prod)-[a-z]+-{region}", name), name
    foundation = {n for n in synth.templates if re.match(r"squrl-\w+-(data|api)-", n)}
    assert foundation == {
        "squrl-dev-data-us-east-1",
        "squrl-dev-api-us-east-1",
        "squrl-staging-data-us-east-1",
        "squrl-staging-api-us-east-1",
        "squrl-staging-api-eu-west-1",
        "squrl-prod-data-us-east-1",
        "squrl-prod-api-us-east-1",
        "squrl-prod-api-eu-west-1",
        "squrl-prod-api-ap-southeast-1",
    }


def test_stacks_expose_what_later_stacks_need(synth):
    prod = synth.environments["prod"]
    assert prod.home_data.table is not None
    for region, api in prod.api.items():
        routed = {
            "create_url",
            "get_url",
            "update_url",
            "redirect",
            "imports",
            "identity",
            "authorizer",
        }
        # The import worker runs where imports are processed: the home region only.
        home = region == prod.config.home_region
        assert set(api.functions) == (routed | {"import_worker"} if home else routed)
        assert api.api is not None and api.table is not None


def test_env_context_selects_one_environment():
    app, environments = build_app({**cdk_json_context(), "env": "dev"})
    assert [env.config.name for env in environments] == ["dev"]
    names = {child.node.id for child in app.node.children}
    assert {"squrl-dev-api-us-east-1", "squrl-dev-data-us-east-1"} <= names
    assert all(name.startswith("squrl-dev-") for name in names)


def test_stacks_use_explicit_accounts(synth):
    for env_name, env in synth.environments.items():
        for stack in [*env.data.values(), *env.api.values()]:
            assert stack.account == env.config.account, (env_name, stack.stack_name)


def test_synth_needs_no_aws_lookups(synth):
    # A missing context value means synth would have called AWS (e.g. an availability-zone
    # lookup) and silently used dummy values offline.
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert not manifest.get("missing")

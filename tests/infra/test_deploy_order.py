"""Changing a switch in cdk.json on a deployed environment never meets an export in use.

Each case synthesizes the app with one changed value and compares its templates with the
committed app's (the deployed one): `deploy_order.blocked_exports` lists every export that the
changed app would remove or change while a deployed stack still imports it, which is what stops
a CloudFormation deploy ("cannot be deleted as it is in use"). Both directions are checked:
the change, and going back.
"""

from __future__ import annotations

from typing import Any

import pytest

from app import build_app
from tests.infra.conftest import cdk_json_context
from tests.infra.deploy_order import blocked_exports, exports, imports, leaving
from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

CHANGES = {
    # docs/deploy.md suggests turning DAX off to save money.
    "prod-dax-off": ("prod", {"squrl.prod.dax.enabled": "false"}),
    # A node type change replaces every cluster.
    "prod-dax-node-type": ("prod", {"squrl.prod.dax.node_type": "dax.r5.large"}),
    # A serving region dropped.
    "staging-without-eu-west-1": ("staging", {"squrl.staging.serving_regions": '["us-east-1"]'}),
}


def _env_templates(templates: dict[str, Any], env: str) -> dict[str, Any]:
    return {name: t for name, t in templates.items() if name.startswith(f"squrl-{env}-")}


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Case -> the changed app's templates, that environment only."""
    synthesized = {}
    for case, (env, overrides) in CHANGES.items():
        outdir = tmp_path_factory.mktemp(case)
        app, _ = build_app({**cdk_json_context(), "env": env, **overrides}, outdir=str(outdir))
        synthesized[case] = {s.stack_name: s.template for s in app.synth().stacks}
    return synthesized


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_a_changed_switch_meets_no_export_in_use(synth, changed, case):
    env = CHANGES[case][0]
    deployed = _env_templates(synth.templates, env)
    assert blocked_exports(deployed, changed[case]) == []
    # And back again: turning DAX on, adding the region.
    assert blocked_exports(changed[case], deployed) == []


def test_dax_off_changes_only_the_api_stacks_and_leaves_no_stack_behind(synth, changed):
    deployed = _env_templates(synth.templates, "prod")
    after = changed["prod-dax-off"]
    assert leaving(deployed, after) == []
    for name, template in after.items():
        assert not resources(template, "AWS::DAX::Cluster"), name
        assert not resources(template, "AWS::EC2::VPC"), name
    # Nothing a DAX switch touches is exported: the exports are the same before and after.
    assert set(exports(deployed)) == set(exports(after))


def test_a_removed_region_leaves_only_its_own_stacks_to_delete(synth, changed):
    deployed = _env_templates(synth.templates, "staging")
    after = changed["staging-without-eu-west-1"]
    gone = leaving(deployed, after)
    # docs/deploy.md names these for `cdk destroy` after the deploy.
    assert gone
    assert all(name.endswith("-eu-west-1") for name in gone), gone
    assert "squrl-staging-api-eu-west-1" in gone
    # After the deploy nothing left in the app reads from them, so deleting them cannot fail
    # on an export either.
    gone_exports = {n for n, e in exports(deployed).items() if e.stack in gone}
    for stack, names in imports(after).items():
        assert not names & gone_exports, stack


def test_the_check_finds_an_export_in_use():
    # A producer that drops an export its consumer still imports, as the data stack did when
    # the DAX cluster lived there and DAX was turned off.
    before = {
        "producer": {
            "Resources": {"Cluster": {"Type": "AWS::DAX::Cluster", "Properties": {"A": 1}}},
            "Outputs": {
                "Out": {"Value": {"Ref": "Cluster"}, "Export": {"Name": "producer:Cluster"}}
            },
        },
        "consumer": {
            "Resources": {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"X": {"Fn::ImportValue": "producer:Cluster"}},
                }
            }
        },
    }
    dropped = {"producer": {"Resources": {}}, "consumer": {"Resources": {}}}
    assert len(blocked_exports(before, dropped)) == 1
    # A node type change keeps the export but replaces the cluster, changing its value.
    replaced = {
        "producer": {
            **before["producer"],
            "Resources": {"Cluster": {"Type": "AWS::DAX::Cluster", "Properties": {"A": 2}}},
        },
        "consumer": before["consumer"],
    }
    assert len(blocked_exports(before, replaced)) == 1
    assert blocked_exports(before, before) == []

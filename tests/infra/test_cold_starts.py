"""Cold-start switches (cdk.json `cold_starts`): SnapStart and provisioned concurrency on an alias
the API invokes, and nothing at all where they are off."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from squrl_config import ConfigError, load_config
from tests.infra.helpers import function_logical_id, methods, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

API_FUNCTIONS = ("create-url", "get-url", "update-url", "redirect")


def _with(context: dict[str, Any], env: str, cold_starts: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(context)
    changed["squrl"]["environments"][env]["cold_starts"] = cold_starts
    return changed


@pytest.fixture(scope="module")
def warmed_dev(context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """dev with SnapStart on create_url and 2 provisioned environments for the redirect."""
    from app import build_app

    changed = _with(
        context,
        "dev",
        {"create_url": {"snapstart": True}, "redirect": {"provisioned_concurrency": 2}},
    )
    changed["env"] = "dev"
    app, _ = build_app(changed, outdir=str(tmp_path_factory.mktemp("cdk.warm")))
    return app.synth().get_stack_by_name("squrl-dev-api-us-east-1").template


def _aliases(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function logical id -> its alias's properties."""
    return {
        alias["Properties"]["FunctionName"]["Ref"]: {"id": logical_id, **alias["Properties"]}
        for logical_id, alias in resources(template, "AWS::Lambda::Alias").items()
    }


def _integration_targets(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(method, path) -> the JSON of its integration URI, for Lambda proxy integrations."""
    return {
        key: json.dumps(props["Integration"]["Uri"])
        for key, props in methods(template).items()
        if props.get("Integration", {}).get("Type") == "AWS_PROXY"
    }


def test_switches_make_a_version_an_alias_and_the_api_invokes_the_alias(warmed_dev):
    create = function_logical_id(warmed_dev, "-create-url")
    redirect = function_logical_id(warmed_dev, "-redirect")
    functions = resources(warmed_dev, "AWS::Lambda::Function")
    assert functions[create]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert "SnapStart" not in functions[redirect]["Properties"]

    aliases = _aliases(warmed_dev)
    assert set(aliases) == {create, redirect}
    assert {a["Name"] for a in aliases.values()} == {"live"}
    assert "ProvisionedConcurrencyConfig" not in aliases[create]
    assert aliases[redirect]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": 2
    }
    versions = resources(warmed_dev, "AWS::Lambda::Version")
    assert {v["Properties"]["FunctionName"]["Ref"] for v in versions.values()} == {
        create,
        redirect,
    }
    # An old version is deleted when the alias moves on: its snapshot stops being cached.
    assert {v["DeletionPolicy"] for v in versions.values()} == {"Delete"}
    for alias in aliases.values():
        version = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert version in versions

    targets = _integration_targets(warmed_dev)
    assert targets, "no Lambda proxy integration found"
    for (method, path), uri in targets.items():
        for function, alias in aliases.items():
            # An integration of a switched function names its alias, never the bare function.
            if alias["id"] in uri:
                assert f'"{function}"' not in uri, (method, path)
        assert (
            aliases[create]["id"] in uri
            or aliases[redirect]["id"] in uri
            or any(
                function_logical_id(warmed_dev, suffix) in uri
                for suffix in ("-get-url", "-update-url", "-identity", "-imports")
            )
        ), (method, path)
    assert any(aliases[redirect]["id"] in uri for uri in targets.values())
    assert any(aliases[create]["id"] in uri for uri in targets.values())

    # API Gateway may invoke the alias (the permission names the alias, not the function).
    permitted = {
        json.dumps(p["Properties"]["FunctionName"])
        for p in resources(warmed_dev, "AWS::Lambda::Permission").values()
    }
    assert any(aliases[create]["id"] in p for p in permitted)
    assert any(aliases[redirect]["id"] in p for p in permitted)


def test_functions_left_off_are_unchanged(synth, warmed_dev):
    off = synth.templates["squrl-dev-api-us-east-1"]
    for suffix in ("-get-url", "-update-url"):
        logical_id = function_logical_id(off, suffix)
        before = resources(off, "AWS::Lambda::Function")[logical_id]["Properties"]
        after = resources(warmed_dev, "AWS::Lambda::Function")[logical_id]["Properties"]
        # Everything but the asset's key (one bundle hash per synth directory) is identical.
        assert {k: v for k, v in before.items() if k != "Code"} == {
            k: v for k, v in after.items() if k != "Code"
        }
    off_targets, on_targets = _integration_targets(off), _integration_targets(warmed_dev)
    get_url = function_logical_id(off, "-get-url")
    for key, uri in off_targets.items():
        if get_url in uri:
            assert on_targets[key] == uri, key


def test_off_everywhere_means_no_alias_and_no_version(synth):
    """dev has no cold_starts: its API stack has neither aliases nor published versions, and
    every integration invokes the function itself."""
    template = synth.templates["squrl-dev-api-us-east-1"]
    assert resources(template, "AWS::Lambda::Alias") == {}
    assert resources(template, "AWS::Lambda::Version") == {}
    for uri in _integration_targets(template).values():
        assert '"Arn"' in uri


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_committed_defaults_snapstart_the_powertools_functions(synth, env):
    config = synth.config.environments[env]
    for region in config.serving_regions:
        template = synth.templates[f"squrl-{env}-api-{region}"]
        functions = resources(template, "AWS::Lambda::Function")
        for suffix in ("-create-url", "-get-url", "-update-url"):
            props = functions[function_logical_id(template, suffix)]["Properties"]
            assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, (region, suffix)
        redirect = functions[function_logical_id(template, "-redirect")]["Properties"]
        assert "SnapStart" not in redirect
        aliases = resources(template, "AWS::Lambda::Alias")
        assert len(aliases) == 3, region
        assert all("ProvisionedConcurrencyConfig" not in a["Properties"] for a in aliases.values())


def test_snapstart_is_refused_for_the_redirect(context):
    with pytest.raises(ConfigError, match=r"redirect: SnapStart functions get container"):
        load_config(_with(context, "prod", {"redirect": {"snapstart": True}}))
    load_config(_with(context, "prod", {"redirect": {"provisioned_concurrency": 1}}))


def test_one_switch_per_function_and_known_names(context):
    with pytest.raises(ConfigError, match=r"cannot both be on"):
        load_config(
            _with(context, "prod", {"get_url": {"snapstart": True, "provisioned_concurrency": 1}})
        )
    with pytest.raises(ConfigError, match=r"edge_redirect: not a function"):
        load_config(_with(context, "prod", {"edge_redirect": {"provisioned_concurrency": 1}}))


def test_provisioned_concurrency_fits_the_reservation_and_the_account(context):
    # prod reserves 20 for get_url.
    with pytest.raises(ConfigError, match=r"exceeds its reserved concurrency \(20\)"):
        load_config(_with(context, "prod", {"get_url": {"provisioned_concurrency": 21}}))
    load_config(_with(context, "prod", {"get_url": {"provisioned_concurrency": 20}}))
    # 1000 - 100 unreserved - 120 reserved leaves 780 for the redirect.
    load_config(_with(context, "prod", {"redirect": {"provisioned_concurrency": 780}}))
    with pytest.raises(ConfigError, match=r"more than the account limit of 1000 leaves \(900"):
        load_config(_with(context, "prod", {"redirect": {"provisioned_concurrency": 781}}))

"""What `make preflight`, `make bootstrap` and `make destroy` say agrees with the templates."""

from __future__ import annotations

from typing import Any

import pytest

from squrl_config.cost_at_rest import BUDGET_FIRST_ALERT_PERCENT, budget_usd
from squrl_config.preflight import canary_api_key_parameter, regions_to_bootstrap
from squrl_config.teardown import kept_resources, protected_tables, render
from tests.infra.helpers import only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVIRONMENTS = ("dev", "staging", "prod")
# The roles a serving region other than the home region holds: what retiring it deletes
# (docs/deploy.md, "Remove a serving region").
REGIONAL_ROLES = {"data", "api", "clicks", "observability"}


def stacks_of(synth: Any, env: str) -> dict[str, str]:
    return {
        name: region
        for name, region in synth.stack_regions.items()
        if name.startswith(f"squrl-{env}-")
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bootstrap_covers_exactly_the_regions_stacks_land_in(synth: Any, env: str) -> None:
    config = synth.config.environments[env]
    assert set(stacks_of(synth, env).values()) == set(regions_to_bootstrap(config))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_region_other_than_home_holds_only_the_regional_roles(synth: Any, env: str) -> None:
    config = synth.config.environments[env]
    for name, region in stacks_of(synth, env).items():
        role = name.removeprefix(f"squrl-{env}-").removesuffix(f"-{region}")
        if region != config.home_region and role != "edge":
            assert role in REGIONAL_ROLES, name
        if role == "edge":
            assert region == "us-east-1"


def test_preflight_reads_the_budgets_first_alert(synth: Any) -> None:
    for env in ENVIRONMENTS:
        template = synth.templates[f"squrl-{env}-observability-us-east-1"]
        budget = only(template, "AWS::Budgets::Budget")["Properties"]
        thresholds = [
            n["Notification"]["Threshold"]
            for n in budget["NotificationsWithSubscribers"]
            if n["Notification"]["NotificationType"] == "ACTUAL"
        ]
        assert min(thresholds) == BUDGET_FIRST_ALERT_PERCENT
        # cdk.json's budget_usd, else the cost model's default (squrl_config/cost_at_rest.py).
        expected = {"dev": 70, "staging": 160, "prod": 1000}[env]
        assert budget_usd(synth.config.environments[env]) == expected
        assert budget["Budget"]["BudgetLimit"]["Amount"] == expected


def test_preflight_names_the_parameter_the_canary_reads(synth: Any) -> None:
    checked = 0
    for env, config in synth.config.environments.items():
        template = synth.templates[f"squrl-{env}-observability-{config.home_region}"]
        for canary in resources(template, "AWS::Synthetics::Canary").values():
            variables = canary["Properties"]["RunConfig"]["EnvironmentVariables"]
            assert variables["API_KEY_PARAMETER"] == canary_api_key_parameter(config)
            checked += 1
    assert checked == 2  # staging and prod


def test_destroy_keeps_the_table_when_retain_data_and_the_next_deploy_adopts_it(
    synth: Any,
) -> None:
    for env in ("staging", "prod"):
        assert synth.config.environments[env].retain_data
        kept = {k.name: k for k in kept_resources(synth.outdir, env) if k.name}
        table = kept[f"squrl-urls-{env}"]
        assert table.type == "AWS::DynamoDB::GlobalTable" and table.adopted
        assert protected_tables(synth.outdir, env) == []
        assert f"squrl-urls-{env} (squrl-{env}-data-us-east-1): adopted" in render(
            list(kept.values()), env
        )


def test_destroy_says_the_kept_user_pool_is_adopted_only_by_its_id(synth: Any) -> None:
    for env in ("staging", "prod"):
        kept = kept_resources(synth.outdir, env)
        (pool,) = [k for k in kept if k.type == "AWS::Cognito::UserPool"]
        assert not pool.adopted
        text = render(kept, env)
        line = next(line for line in text.splitlines() if pool.logical_id in line)
        assert "NOT adopted" in line
        assert "identity.user_pool_id" in line
        assert f"/squrl/{env}/identity/user-pool" in line and "UserPoolId" in line


def test_destroy_names_the_deletion_protection_that_stops_it_in_dev(synth: Any) -> None:
    assert not synth.config.environments["dev"].retain_data
    assert protected_tables(synth.outdir, "dev") == ["squrl-urls-dev"]
    names = {k.name for k in kept_resources(synth.outdir, "dev")}
    assert "squrl-urls-dev" not in names

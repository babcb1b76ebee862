"""`make preflight`: the committed config is refused with what to set; real values pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from squrl_config.cost_at_rest import budget_usd, cost_at_rest, modelled, shape_of
from squrl_config.preflight import (
    main,
    placeholder_account,
    placeholder_domain,
    regions_to_bootstrap,
    run,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = REPO_ROOT / "cdk.json"
PROD_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]


def committed() -> dict[str, Any]:
    return dict(json.loads(CDK_JSON.read_text())["context"])


def real_values(env: str, regions: list[str], **extra: str) -> dict[str, str]:
    """What an operator passes (or writes into cdk.json): CLI-style -c overrides."""
    return {
        f"squrl.{env}.account": "493817265014",
        f"squrl.{env}.observability.alarm_email": "oncall@squrl-ops.net.nz",
        f"squrl.{env}.deploy.bootstrapped_regions": json.dumps(regions),
        **{f"squrl.{env}.{key}": value for key, value in extra.items()},
    }


def keys(findings: list[Any]) -> list[str]:
    return [finding.key for finding in findings]


def test_prod_as_committed_names_what_must_be_set_and_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prod"]) == 1
    out = capsys.readouterr().out
    for must in (
        "FAIL squrl.environments.prod.account: 333333333333 is a placeholder",
        "FAIL squrl.environments.prod.observability.alarm_email: squrl-oncall@example.com is a "
        "placeholder",
        "FAIL squrl.environments.prod.deploy.bootstrapped_regions: us-east-1, eu-west-1, "
        "ap-southeast-1 not listed",
        "cdk bootstrap aws://333333333333/us-east-1 aws://333333333333/eu-west-1 "
        "aws://333333333333/ap-southeast-1",
        "preflight failed",
    ):
        assert must in out
    # The manual steps are named even when the values are wrong.
    assert "confirm the alarm topic's email subscription, one email per serving region (3)" in out
    assert "/squrl/prod/canary-api-key in us-east-1" in out


def test_prod_with_real_values_passes() -> None:
    context = committed() | real_values("prod", PROD_REGIONS)
    report = run("prod", context)
    assert report.must_set == []
    assert report.ok
    assert any("budget $1000" in line for line in report.checked)


def test_the_cli_takes_the_cdk_style_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    args = [arg for k, v in real_values("prod", PROD_REGIONS).items() for arg in ("-c", f"{k}={v}")]
    assert main(["prod", *args]) == 0
    assert "preflight passed" in capsys.readouterr().out


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_committed_environment_is_refused_until_its_account_is_set(env: str) -> None:
    report = run(env, committed())
    assert "account" in keys(report.must_set)
    assert not report.ok


@pytest.mark.parametrize(
    ("account", "placeholder"),
    [
        ("111111111111", True),
        ("222222222222", True),
        ("333333333333", True),
        ("000000000000", True),
        ("123456789012", True),
        ("493817265014", False),
        ("111111111112", False),
    ],
)
def test_placeholder_accounts(account: str, placeholder: bool) -> None:
    assert placeholder_account(account) is placeholder


@pytest.mark.parametrize(
    ("host", "placeholder"),
    [
        ("example.com", True),
        ("sq.example.com", True),
        ("staging.sq.example.com", True),
        ("Example.ORG.", True),
        ("a.example.net", True),
        ("links.example", True),
        ("sq.test", True),
        ("x.invalid", True),
        ("notexample.com", False),
        ("example.com.au", False),
        ("sq.mycorp.io", False),
    ],
)
def test_placeholder_domains(host: str, placeholder: bool) -> None:
    assert placeholder_domain(host) is placeholder


def test_a_placeholder_short_domain_fails() -> None:
    context = committed() | real_values("prod", PROD_REGIONS, short_domain="sq.example.com")
    report = run("prod", context)
    assert keys(report.must_set) == ["short_domain"]
    assert "can never validate" in report.must_set[0].message


def test_a_missing_alarm_email_fails() -> None:
    context = committed() | real_values("dev", ["us-east-1"])
    context["squrl.dev.observability.alarm_email"] = "null"
    assert keys(run("dev", context).must_set) == ["observability.alarm_email"]


def test_every_serving_region_and_us_east_1_must_be_bootstrapped() -> None:
    context = committed() | real_values(
        "staging",
        ["eu-west-1"],
        serving_regions='["eu-west-1", "ap-southeast-1"]',
        home_region="eu-west-1",
        **{"edge.price_class": "PriceClass_200"},
    )
    report = run("staging", context)
    assert keys(report.must_set) == ["deploy.bootstrapped_regions"]
    message = report.must_set[0].message
    assert message.startswith("ap-southeast-1, us-east-1 not listed as bootstrapped")
    assert regions_to_bootstrap(report.config) == ["eu-west-1", "ap-southeast-1", "us-east-1"]


def test_without_the_edge_us_east_1_is_not_needed() -> None:
    context = committed() | real_values(
        "dev",
        ["eu-west-1"],
        serving_regions='["eu-west-1"]',
        home_region="eu-west-1",
        **{"edge.enabled": "false"},
    )
    report = run("dev", context)
    assert report.ok, report.must_set


# The model's cost at rest (squrl_config/cost_at_rest.json, `make cost`): the first alert, at
# 80% of the budget, must be above it.
AT_REST = {"dev": 32.15, "staging": 98.17, "prod": 472.01}


@pytest.mark.parametrize(
    ("env", "budget", "ok"),
    [
        ("dev", 40, False),  # 80% = 32.00: not above dev's $32.15 at rest
        ("dev", 41, True),
        ("staging", 122, False),  # 80% = 97.60 < 98.17
        ("staging", 123, True),
        ("staging", 125, True),  # the budget committed before the model (warned: below default)
        ("prod", 590, False),  # 80% = 472.00 < 472.01
        ("prod", 591, True),
    ],
)
def test_the_budgets_first_alert_must_be_above_the_cost_at_rest(
    env: str, budget: int, ok: bool
) -> None:
    regions = run(env, committed()).config.serving_regions
    context = committed() | real_values(env, regions, budget_usd=str(budget))
    report = run(env, context)
    assert report.ok is ok, report.must_set
    if not ok:
        assert keys(report.must_set) == ["budget_usd"]
        assert "alerts at rest" in report.must_set[0].message
        assert f"${AT_REST[env]:.2f} a month at rest" in report.must_set[0].message


def test_the_committed_budgets_leave_room_above_the_cost_at_rest() -> None:
    """cdk.json's budget (or, where it sets none, the model's default) alerts first above what
    the environment costs with no traffic."""
    for env in ("dev", "staging", "prod"):
        report = run(env, committed())
        config = report.config
        cost = cost_at_rest(config)
        assert cost is not None, env
        budget = budget_usd(config)
        assert budget is not None and budget * 0.8 > cost.usd, env
        assert "budget_usd" not in keys(report.must_set), env
        assert "budget_usd" not in keys(report.warnings), env


def test_the_figures_are_the_models_for_the_committed_environments() -> None:
    figures = {}
    for env in ("dev", "staging", "prod"):
        config = run(env, committed()).config
        cost = cost_at_rest(config)
        assert cost is not None and cost.modelled_on == env, env
        figures[env] = round(cost.usd, 2)
    assert figures == AT_REST
    assert modelled()["generated_by"].startswith("make cost")


def test_an_unset_budget_defaults_to_the_cost_at_rest_plus_the_traffic_allowance() -> None:
    # dev and staging set no budget_usd: at rest plus 10M redirects at 90% edge hits, 0.1M
    # creates (the authorizer included) and the assumed Cognito MAUs (dev: 100 on Essentials,
    # inside its free 10,000; staging: 100 on Plus at $0.02), over 80%, rounded up to $10:
    # dev (32.15 + 19.91) / 0.8 = 64.7 -> 70; staging (98.17 + 22.17) / 0.8 = 150.4 -> 160.
    dev = run("dev", committed()).config
    cost = cost_at_rest(dev)
    assert cost is not None and dev.budget_usd is None
    assert cost.traffic_allowance_usd == pytest.approx(10 * 1.8801 + 0.1 * 11.1291 + 0.0, abs=0.01)
    assert budget_usd(dev) == cost.budget_default_usd == 70
    staging = cost_at_rest(run("staging", committed()).config)
    assert staging is not None
    assert staging.traffic_allowance_usd == pytest.approx(
        10 * 1.8801 + 0.1 * 13.6996 + 100 * 0.02, abs=0.01
    )
    assert budget_usd(run("staging", committed()).config) == 160
    assert budget_usd(run("prod", committed()).config) == 1000  # cdk.json's own


def test_a_budget_below_the_default_is_a_warning() -> None:
    context = committed() | real_values("staging", ["us-east-1", "eu-west-1"], budget_usd="125")
    report = run("staging", context)
    assert report.ok
    (warning,) = [w for w in report.warnings if w.key == "budget_usd"]
    assert "the model's default is 160" in warning.message


def test_another_shape_has_no_figure_and_the_budget_is_only_a_warning() -> None:
    context = committed() | real_values("prod", PROD_REGIONS, **{"dax.enabled": "false"})
    report = run("prod", context)
    assert report.ok
    assert cost_at_rest(report.config) is None
    (budget,) = [w for w in report.warnings if w.key == "budget_usd"]
    assert "no cost-at-rest figure for this configuration's shape" in budget.message


def test_a_cold_start_switch_changes_the_shape() -> None:
    context = committed() | real_values(
        "prod", PROD_REGIONS, **{"cold_starts": '{"redirect": {"provisioned_concurrency": 1}}'}
    )
    config = run("prod", context).config
    assert shape_of(config)["cold_starts"]["redirect"] == {
        "snapstart": False,
        "provisioned_concurrency": 1,
        "memory_mb": 512,
    }
    assert cost_at_rest(config) is None


def test_the_api_host_adds_its_health_checks_to_the_figure() -> None:
    context = committed() | real_values(
        "prod",
        PROD_REGIONS,
        short_domain="sq.mycorp.io",
        **{"domain.hosted_zone_id": "Z0123456789ABC"},
    )
    config = run("prod", context).config
    cost = cost_at_rest(config)
    # Three HTTPS health checks on a non-AWS endpoint: $0.75 + $2.00 each.
    assert cost is not None and cost.api_host_usd == pytest.approx(3 * 2.75)
    assert cost.usd == pytest.approx(AT_REST["prod"] + 3 * 2.75, abs=0.01)


def test_domain_steps_follow_the_zone() -> None:
    zoned = committed() | real_values(
        "prod",
        PROD_REGIONS,
        short_domain="sq.mycorp.io",
        **{"domain.hosted_zone_id": "Z0123456789ABC"},
    )
    steps = " ".join(run("prod", zoned).manual_steps)
    assert "Route 53 zone Z0123456789ABC must be the one the parent domain delegates" in steps
    assert "https://api.sq.mycorp.io" in steps
    unzoned = committed() | real_values("prod", PROD_REGIONS, short_domain="sq.mycorp.io")
    steps = " ".join(run("prod", unzoned).manual_steps)
    assert "validation CNAME" in steps
    assert "ShortDomainRecord (sq.mycorp.io CNAME <distribution>.cloudfront.net)" in steps


def test_an_invalid_config_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prod", "-c", "squrl.prod.home_region=mars"]) == 2
    assert "squrl.environments.prod.home_region" in capsys.readouterr().err
    assert main(["nowhere"]) == 2


def test_make_preflight_runs_the_module() -> None:
    # As `make preflight ENV=prod` runs it: offline, from the repository root.
    result = subprocess.run(
        [sys.executable, "-m", "squrl_config.preflight", "prod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Must be set before deploying (3):" in result.stdout


def test_production_without_an_ses_sender_is_a_warning() -> None:
    for env, regions in (("staging", ["us-east-1", "eu-west-1"]), ("prod", PROD_REGIONS)):
        report = run(env, committed() | real_values(env, regions))
        (warning,) = [w for w in report.warnings if w.key == "identity.ses_email"]
        assert "about 50 a day" in warning.message
        ses = json.dumps({"from_email": "no-reply@squrl-ops.net.nz"})
        configured = run(
            env, committed() | real_values(env, regions, **{"identity.ses_email": ses})
        )
        assert not [w for w in configured.warnings if w.key == "identity.ses_email"]
    dev = run("dev", committed() | real_values("dev", ["us-east-1"]))
    assert not [w for w in dev.warnings if w.key == "identity.ses_email"]


def test_admins_without_required_mfa_are_a_warning() -> None:
    report = run("prod", committed() | real_values("prod", PROD_REGIONS))
    assert report.config.identity.mfa == "OPTIONAL"
    (warning,) = [w for w in report.warnings if w.key == "identity.mfa"]
    assert "admin" in warning.message and '"REQUIRED"' in warning.message
    required = run(
        "prod", committed() | real_values("prod", PROD_REGIONS, **{"identity.mfa": "REQUIRED"})
    )
    assert not [w for w in required.warnings if w.key == "identity.mfa"]


def test_teardown_step_says_the_user_pool_is_kept_and_how_to_adopt_it() -> None:
    steps = " ".join(run("prod", committed() | real_values("prod", PROD_REGIONS)).manual_steps)
    assert "adopts what it kept" not in steps
    assert "identity.user_pool_id" in steps
    assert "/squrl/prod/identity/user-pool" in steps and "UserPoolId" in steps

"""`make cost` over this session's synthesized templates: the quoted figures are the model's, the
figures follow from the templates, and the redirect target is reported as the model finds it."""

from __future__ import annotations

from typing import Any

import pytest

from squrl_config.cost_at_rest import BUDGET_FIRST_ALERT_PERCENT, budget_usd, cost_at_rest
from tools.cost_model.__main__ import ROOT, compute, generated, main

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


@pytest.fixture(scope="module")
def output(synth: Any) -> dict[str, Any]:
    return compute(synth.outdir)


def test_every_quoted_figure_is_the_models_current_output(output: dict[str, Any]) -> None:
    """squrl_config/cost_at_rest.json (preflight, the budget default) and the marked blocks of
    README.md, docs/deploy.md and docs/cost.md are exactly what the model computes from today's
    templates; `make cost` rewrites them."""
    files = generated(output)
    assert {p.relative_to(ROOT).as_posix() for p in files} == {
        "squrl_config/cost_at_rest.json",
        "README.md",
        "docs/deploy.md",
        "docs/cost.md",
    }
    stale = [str(p.relative_to(ROOT)) for p, text in files.items() if p.read_text() != text]
    assert stale == [], f"run `make cost`: {stale}"
    for path in files:
        if path.suffix == ".md":
            assert "<!-- cost-model:" in path.read_text()


def test_cost_at_rest_follows_from_the_templates(output: dict[str, Any]) -> None:
    envs = output["environments"]
    dev = envs["dev"]["at_rest_by_service"]
    # A regional ACL with 6 rules and the CloudFront ACL with 4: $5 + $1 a rule each.
    assert dev["WAF"] == pytest.approx((5 + 6) + (5 + 4))
    assert "Kinesis" not in dev  # dev has no analytics, so neither stream exists
    # prod: 3 regions x 3 dax.t3.small at $0.04 an hour; an X-Ray endpoint in 3 zones each.
    prod = envs["prod"]["at_rest_by_service"]
    assert prod["DAX"] == pytest.approx(3 * 3 * 0.04 * 730)
    assert prod["VPC endpoints"] == pytest.approx(3 * 3 * 0.01 * 730)
    # The on-demand edge request stream ($0.04 a stream-hour) and the 1-shard click stream.
    assert prod["Kinesis"] == pytest.approx(0.04 * 730 + 0.015 * 730)
    # A canary every 5 minutes.
    assert prod["Synthetics"] == pytest.approx(730 * 12 * 0.0012)
    # SnapStart on create_url, get_url and update_url (512 MB) in each serving region.
    snapshot = 0.5 * 730 * 3600 * 0.0000015046
    assert envs["staging"]["at_rest_by_service"]["Lambda"] == pytest.approx(
        2 * 3 * snapshot, abs=0.0001
    )
    assert prod["Lambda"] == pytest.approx(3 * 3 * snapshot, abs=0.0001)
    assert "Lambda" not in dev
    for env in envs.values():
        assert sum(env["at_rest_by_region"].values()) == pytest.approx(env["at_rest_usd"], abs=0.01)


def test_the_budgets_stay_above_the_cost_at_rest(synth: Any, output: dict[str, Any]) -> None:
    """Fails when cdk.json's budget (or the default where it sets none) would alert on what the
    environment costs with no traffic."""
    for name, config in synth.config.environments.items():
        cost = cost_at_rest(config)
        assert cost is not None, name
        assert cost.usd == pytest.approx(output["environments"][name]["at_rest_usd"])
        budget = budget_usd(config)
        assert budget is not None
        assert budget * BUDGET_FIRST_ALERT_PERCENT / 100 > cost.usd, name


def test_redirects_at_a_90_percent_edge_hit_ratio(output: dict[str, Any]) -> None:
    """Issue 16's target, $1.50 per 1M redirects at 90% edge hits, against prod's templates.

    Hit: CloudFront request $1.00 + CloudFront Function $0.10 + CloudFront WAF $0.60 + 600 bytes
    out at $0.085/GB. Miss: the hit plus Lambda@Edge ($0.60 + 512 MB x 20 ms), one eventually
    consistent read (0.5 RRU) and 350 bytes of platform log lines.
    """
    gb = 1_000_000 / 1024**3
    hit = 1.00 + 0.10 + 0.60 + 600 * gb * 0.085
    miss = hit + 0.60 + 0.5 * 0.020 * 1_000_000 * 0.00005001 + 0.5 * 0.125 + 350 * gb * 0.50
    figure = 0.9 * hit + 0.1 * miss
    target = output["target"]
    assert target["usd"] == pytest.approx(figure, abs=0.0001)
    assert target["target_usd"] == 1.50
    assert target["met"] is (figure <= 1.50)
    # Why it is not met: the two request fees every request pays are above it on their own.
    assert target["floor_usd"] == pytest.approx(1.60)
    assert target["without_edge_waf_usd"] == pytest.approx(figure - 0.60, abs=0.0001)


def test_make_cost_prints_the_tables_and_the_target(
    synth: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(synth.outdir), "--check"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "Cost at rest by environment and region",
        "Marginal cost",
        "| redirects at a 90% edge hit ratio |",
        "| counted clicks (edge) |",
        "1M redirects at a 90% edge hit ratio, prod: $1.8801 (target $1.50: NOT met)",
        "| authenticated API reads (GET /urls/{code}) |",
        "| imported rows |",
        "it would cost $1.4555 (met), and $0.9359 with the bundle and without",
    ):
        assert heading in out


def test_the_authorizer_is_in_every_authenticated_request(output: dict[str, Any]) -> None:
    """No result cache, so each authenticated request runs the authorizer (512 MB arm64 in the
    templates, 15 ms assumed): $0.20 a request, its duration, 600 + 300 log bytes at $0.50/GB,
    one GetItem (0.5 RRU) and a last_used_at write on 1 in 1,000 requests, replicated."""
    gb = 1_000_000 / 1024**3
    prod = output["environments"]["prod"]
    authorizer = {c["component"]: c["usd"] for c in prod["api_components"]["authorizer"]}
    assert authorizer["authorizer requests"] == pytest.approx(0.20)
    assert authorizer["authorizer duration"] == pytest.approx(
        0.5 * 0.015 * 1_000_000 * 0.0000133334, abs=0.0001
    )
    assert authorizer["authorizer token read"] == pytest.approx(0.5 * 0.125, abs=0.0001)
    # prod writes in us-east-1 and replicates to two regions.
    assert authorizer["authorizer last_used_at write"] == pytest.approx(
        0.001 * (0.625 + 2 * 0.625), abs=0.0001
    )
    assert authorizer["logs: authorizer"] == pytest.approx(900 * gb * 0.50, abs=0.0001)
    total = sum(authorizer.values())
    assert prod["api_per_million_usd"]["authorizer"] == pytest.approx(total, abs=0.001)
    for path in ("create", "api_read"):
        names = {c["component"] for c in prod["api_components"][path]}
        assert set(authorizer) <= names, path
    # GET /urls/{code}: API Gateway $3.50, regional WAF $0.60, the authorizer, get_url (512 MB,
    # 30 ms), one consistent read, logs, 5% traced, 1,200 bytes out at $0.09/GB.
    read = (
        3.50 + 0.60 + total + 0.20 + 0.5 * 0.030 * 1_000_000 * 0.0000133334 + 0.125
        + 2200 * gb * 0.50 + 0.05 * 5.00 + 1200 * gb * 0.09
    )  # fmt: skip
    assert prod["api_per_million_usd"]["api_read"] == pytest.approx(read, abs=0.001)


def test_imported_rows_follow_the_state_machine_and_the_row_writes(
    output: dict[str, Any],
) -> None:
    """1M rows in 1,000-row chunks: 2 transitions a chunk and 3 a job of 10,000 rows at $25 per
    1M; the worker (1,024 MB arm64) 5 ms a row; one transaction of link, history and marker
    (2 WRU each) with the link's 2 index writes, replicated to prod's two other regions."""
    components = output["environments"]["prod"]["api_components"]["import_rows"]
    prod = {c["component"]: c["usd"] for c in components}
    assert prod["Step Functions state transitions"] == pytest.approx((1000 * 2 + 100 * 3) * 25e-6)
    assert prod["import worker duration"] == pytest.approx(
        1.0 * 0.005 * 1_000_000 * 0.0000133334, abs=0.0001
    )
    assert prod["DynamoDB writes"] == pytest.approx(6 * 0.625)
    assert prod["DynamoDB index writes"] == pytest.approx(2 * 0.625)
    assert prod["DynamoDB replication to 2 region(s)"] == pytest.approx(2 * (3 + 2) * 0.625)
    assert output["environments"]["prod"]["api_per_million_usd"]["import_rows"] == 11.5089


def test_cognito_is_priced_by_the_pools_tier_in_the_template(output: dict[str, Any]) -> None:
    envs = output["environments"]
    # Threat protection (AUDIT, ENFORCED) puts staging and prod on Plus: $0.02 an MAU, no free
    # tier; dev is on Essentials, whose first 10,000 MAUs are free.
    assert envs["prod"]["cognito"] == {
        "tier": "PLUS", "per_1000_mau_usd": 20.0, "free_mau": 0, "assumed_mau": 1000,
        "assumed_mau_month_usd": 20.0,
    }  # fmt: skip
    assert envs["staging"]["cognito"]["tier"] == "PLUS"
    assert envs["staging"]["cognito"]["assumed_mau_month_usd"] == 2.0
    assert envs["dev"]["cognito"]["tier"] == "ESSENTIALS"
    assert envs["dev"]["cognito"]["per_1000_mau_usd"] == 15.0
    assert envs["dev"]["cognito"]["assumed_mau_month_usd"] == 0.0


def test_the_target_with_the_security_savings_bundle(output: dict[str, Any]) -> None:
    """30% off the CloudFront lines ($1.00 + $0.10 + the transfer), and a WAF credit of 10% of
    the commitment (70% of those lines) against the $0.60 web ACL fee."""
    target = output["target"]
    cloudfront = 1.00 + 0.10 + 600 * 1_000_000 / 1024**3 * 0.085
    credit = 0.10 * 0.70 * cloudfront
    assert target["with_security_savings_bundle_usd"] == pytest.approx(
        target["usd"] - 0.30 * cloudfront - credit, abs=0.0001
    )
    assert target["with_security_savings_bundle_usd"] == 1.4555
    assert target["with_bundle_without_edge_waf_usd"] == pytest.approx(
        target["usd"] - 0.30 * cloudfront - 0.60, abs=0.0001
    )

"""The model's output: one JSON document, and the Markdown tables the docs quote from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from squrl_config.cost_at_rest import CostAtRest
from tools.cost_model.assembly import Environment
from tools.cost_model.assumptions import (
    ASSUMPTIONS,
    TARGET_PER_MILLION_REDIRECTS_USD,
    Assumptions,
    describe,
    monthly_active_users,
)
from tools.cost_model.at_rest import at_rest_lines, by_region, by_service
from tools.cost_model.marginal import Components, Model, features, total
from tools.cost_model.prices import Prices

HIT_RATIOS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
PATHS = {
    "edge_hit": "edge hit (CloudFront cache)",
    "edge_miss": "edge miss, answered by Lambda@Edge",
    "edge_miss_regional": "edge miss → regional API",
    "regional_direct": "regional API direct",
    "regional_dax": "regional API direct, with DAX",
}
TARGET_ENVIRONMENT = "prod"


def _cents(usd: float) -> float:
    return round(usd, 4)


def _components(path: Components) -> list[dict[str, Any]]:
    return [{"component": name, "usd": _cents(usd)} for name, usd in path]


def _clicks(model: Model, env: Environment) -> dict[str, Any] | None:
    if env.one("analytics") is None:
        return None  # no click stream, no counting
    return {
        "edge": _cents(total(model.edge_click())),
        "regional": _cents(total(model.regional_click())),
        "edge_components": _components(model.edge_click()),
    }


def _dax(env: Environment, prices: Prices, model: Model, lines: list[Any]) -> dict[str, Any]:
    at_rest = sum(line.usd for line in lines if line.service in ("DAX", "VPC endpoints"))
    saving = total(model.regional_direct()) - total(model.regional_dax())
    break_even = at_rest / saving if saving > 0 else None
    return {
        "at_rest_usd": _cents(at_rest),
        "saving_per_million_regional_usd": _cents(saving),
        "break_even_million_regional_redirects": round(break_even) if break_even else None,
        "break_even_regional_per_second": (
            round(break_even * 1_000_000 / prices.seconds_per_month) if break_even else None
        ),
    }


def _cold_start_prices(prices: Prices) -> dict[str, float]:
    """What the cold-start switches cost for one 512 MB function in one region."""
    gb_month = 0.5 * prices.seconds_per_month
    return {
        "snapstart_cache_month": _cents(gb_month * prices("lambda", "snapstart_cache_gb_second")),
        "snapstart_restore": round(0.5 * prices("lambda", "snapstart_restore_per_gb"), 6),
        "provisioned_1_arm64_month": _cents(
            gb_month * prices("lambda", "provisioned_gb_second_arm64")
        ),
        "provisioned_1_x86_64_month": _cents(
            gb_month * prices("lambda", "provisioned_gb_second_x86_64")
        ),
    }


def _floor(env: Environment, prices: Prices) -> float:
    fees = dict(Model(features(env), prices).edge_hit())
    return fees["CloudFront requests"] + _edge_waf_fee(env, prices)


def _bundle(env: Environment, prices: Prices, figure: float) -> dict[str, float]:
    """The figure under the CloudFront Security Savings Bundle: CloudFront's charges at 70%, and
    the WAF credit (10% of the commitment, i.e. of those 70%) set against the web ACL's fee."""
    hit = dict(Model(features(env), prices).edge_hit())
    cloudfront = sum(
        usd for name, usd in hit.items() if name.startswith("CloudFront ") and "WAF" not in name
    )
    discount = prices("cloudfront_security_savings_bundle", "cloudfront_discount")
    share = prices("cloudfront_security_savings_bundle", "waf_credit_share_of_commitment")
    commitment = (1 - discount) * cloudfront
    waf = _edge_waf_fee(env, prices)
    credit = min(waf, share * commitment)
    with_bundle = figure - discount * cloudfront - credit
    return {
        "with_security_savings_bundle_usd": _cents(with_bundle),
        "with_bundle_without_edge_waf_usd": _cents(with_bundle - (waf - credit)),
        "bundle_commitment_per_million_usd": _cents(commitment),
        "bundle_waf_credit_per_million_usd": _cents(credit),
    }


def _edge_waf_fee(env: Environment, prices: Prices) -> float:
    """The CloudFront web ACL's request fee, paid by hits and misses alike."""
    return dict(Model(features(env), prices).edge_hit()).get("CloudFront WAF requests", 0.0)


def _region_order(env: Environment, region: str) -> tuple[bool, str]:
    """The home region (the data stack's) first, then the others alphabetically."""
    home = env.role("data")[0].region
    return (region != home, region)


# The API-side paths the features added, each priced per 1M (the key, its label).
API_PATHS = {
    "create": "creates (POST /urls)",
    "api_read": "authenticated API reads (GET /urls/{code})",
    "authorizer": "the authorizer alone (in every authenticated request above)",
    "import_rows": "imported rows",
    "app_assets": "web app asset requests (/app/)",
}


def _cognito(model: Model, env: Environment, assumptions: Assumptions) -> dict[str, Any]:
    mau = monthly_active_users(env.name, assumptions)
    return {
        "tier": model.f.user_pool_tier,
        "per_1000_mau_usd": _cents(model.cognito_per_1000_mau()),
        "free_mau": 0 if model.f.user_pool_tier == "PLUS" else 10000,
        "assumed_mau": mau,
        "assumed_mau_month_usd": _cents(model.cognito_month(mau)),
    }


def environment_report(
    env: Environment, prices: Prices, assumptions: Assumptions = ASSUMPTIONS
) -> dict[str, Any]:
    lines = at_rest_lines(env, prices, assumptions)
    model = Model(features(env), prices, assumptions)
    redirects = {key: _cents(total(getattr(model, key)())) for key in PATHS}
    blended = {f"{ratio:.2f}": _cents(model.blended(ratio)) for ratio in HIT_RATIOS}
    cognito = _cognito(model, env, assumptions)
    allowance = (
        assumptions.budget_redirect_millions * model.blended(assumptions.edge_hit_ratio)
        + assumptions.budget_create_millions * total(model.create())
        + model.cognito_month(cognito["assumed_mau"])
    )
    report: dict[str, Any] = {
        "at_rest_usd": _cents(sum(line.usd for line in lines)),
        "at_rest_by_region": {
            region: _cents(usd)
            for region, usd in sorted(
                by_region(lines).items(), key=lambda kv: _region_order(env, kv[0])
            )
        },
        "at_rest_by_service": {k: _cents(v) for k, v in by_service(lines).items()},
        "redirects_per_million_usd": redirects,
        "redirects_blended_per_million_usd": blended,
        "edge_hit_components": _components(model.edge_hit()),
        "edge_miss_components": _components(model.edge_miss()),
        "creates_per_million_usd": _cents(total(model.create())),
        "counted_clicks_per_million_usd": _clicks(model, env),
        "api_per_million_usd": {key: _cents(total(getattr(model, key)())) for key in API_PATHS},
        "api_components": {key: _components(getattr(model, key)()) for key in API_PATHS},
        "cognito": cognito,
        "traffic_allowance_usd": _cents(allowance),
    }
    if model.f.dax:
        report["dax"] = _dax(env, prices, model, lines)
    return report


def build(
    environments: dict[str, Environment],
    prices: Prices,
    shapes: dict[str, dict[str, Any]],
    assumptions: Assumptions = ASSUMPTIONS,
) -> dict[str, Any]:
    """The whole output; `shapes` is each environment's configuration shape
    (squrl_config.cost_at_rest.shape_of), which preflight matches figures by."""
    envs = {}
    for name in sorted(environments, key=list(shapes).index):
        envs[name] = {"shape": shapes[name], **environment_report(environments[name], prices)}
    target_figure = envs[TARGET_ENVIRONMENT]["redirects_blended_per_million_usd"][
        f"{assumptions.edge_hit_ratio:.2f}"
    ]
    return {
        "generated_by": "make cost (python -m tools.cost_model); do not edit",
        "prices_transcribed": prices.transcribed,
        "price_table": "docs/prices.toml",
        "region_pricing": "us-east-1 list prices in every region (no sourced multiplier)",
        "api_host_health_check_usd_per_region": _cents(
            prices("route53", "health_check_month") + prices("route53", "health_check_https_month")
        ),
        "traffic_allowance": (
            f"{assumptions.budget_redirect_millions:g}M redirects at a "
            f"{assumptions.edge_hit_ratio:.0%} edge hit ratio and "
            f"{assumptions.budget_create_millions:g}M creates a month, and the Cognito "
            "monthly active users of each environment's assumption ("
            + ", ".join(f"{k} {v:,}" for k, v in assumptions.budget_monthly_active_users)
            + ")"
        ),
        "target": {
            "what": f"1M redirects at a {assumptions.edge_hit_ratio:.0%} edge hit ratio, "
            f"{TARGET_ENVIRONMENT}",
            "usd": target_figure,
            "target_usd": TARGET_PER_MILLION_REDIRECTS_USD,
            "met": target_figure <= TARGET_PER_MILLION_REDIRECTS_USD,
            # What every request through the distribution pays before anything else: CloudFront's
            # request fee and, with the CloudFront web ACL, WAF's.
            "floor_usd": _cents(_floor(environments[TARGET_ENVIRONMENT], prices)),
            "without_edge_waf_usd": _cents(
                target_figure - _edge_waf_fee(environments[TARGET_ENVIRONMENT], prices)
            ),
            **_bundle(environments[TARGET_ENVIRONMENT], prices, target_figure),
        },
        "cold_start_prices": _cold_start_prices(prices),
        "assumptions": dict(describe(assumptions)),
        "environments": envs,
    }


# -- Markdown ---------------------------------------------------------------------------------


def _usd(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"${value:,.{digits}f}"


def at_rest_table(output: dict[str, Any]) -> str:
    rows = ["| environment | region | at rest, USD a month |", "|---|---|---:|"]
    for name, env in output["environments"].items():
        for region, usd in env["at_rest_by_region"].items():
            rows.append(f"| {name} | {region} | {_usd(usd)} |")
        rows.append(f"| **{name}** | all | **{_usd(env['at_rest_usd'])}** |")
    return "\n".join(rows)


def services_table(output: dict[str, Any]) -> str:
    names = list(output["environments"])
    services: list[str] = []
    for env in output["environments"].values():
        services += [s for s in env["at_rest_by_service"] if s not in services]
    rows = ["| service | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for service in services:
        cells = [_usd(output["environments"][n]["at_rest_by_service"].get(service)) for n in names]
        rows.append(f"| {service} | " + " | ".join(c.replace("n/a", "-") for c in cells) + " |")
    return "\n".join(rows)


def marginal_table(output: dict[str, Any]) -> str:
    names = list(output["environments"])
    rows = ["| USD per 1M | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    envs = output["environments"]
    for key, label in PATHS.items():
        rows.append(
            f"| redirects: {label} | "
            + " | ".join(_usd(envs[n]["redirects_per_million_usd"][key]) for n in names)
            + " |"
        )
    for ratio in ("0.80", "0.90", "0.95", "0.99"):
        rows.append(
            f"| redirects at a {float(ratio):.0%} edge hit ratio | "
            + " | ".join(_usd(envs[n]["redirects_blended_per_million_usd"][ratio]) for n in names)
            + " |"
        )
    for key, label in API_PATHS.items():
        rows.append(
            f"| {label} | "
            + " | ".join(_usd(envs[n]["api_per_million_usd"][key]) for n in names)
            + " |"
        )
    for origin in ("edge", "regional"):
        cells = []
        for n in names:
            clicks = envs[n]["counted_clicks_per_million_usd"]
            cells.append(_usd(clicks[origin]) if clicks else "no counting")
        rows.append(f"| counted clicks ({origin}) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def cognito_table(output: dict[str, Any]) -> str:
    rows = [
        "| environment | user pool tier | free MAUs a month | USD per 1,000 MAUs above them "
        "| assumed MAUs | USD a month at them |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, env in output["environments"].items():
        c = env["cognito"]
        rows.append(
            f"| {name} | {c['tier'] or 'no user pool'} | {c['free_mau']:,} | "
            f"{_usd(c['per_1000_mau_usd'])} | {c['assumed_mau']:,} | "
            f"{_usd(c['assumed_mau_month_usd'])} |"
        )
    return "\n".join(rows)


def api_breakdown_table(output: dict[str, Any]) -> str:
    env = output["environments"][TARGET_ENVIRONMENT]
    rows = [f"| {TARGET_ENVIRONMENT}, USD per 1M | component | USD |", "|---|---|---:|"]
    for key in ("api_read", "import_rows", "app_assets"):
        for c in env["api_components"][key]:
            rows.append(f"| {API_PATHS[key]} | {c['component']} | {_usd(c['usd'], 4)} |")
        rows.append(
            f"| **{API_PATHS[key]}** | **total** | **{_usd(env['api_per_million_usd'][key], 4)}** |"
        )
    return "\n".join(rows)


def summary_table(output: dict[str, Any]) -> str:
    ratio = f"{ASSUMPTIONS.edge_hit_ratio:.2f}"
    rows = [
        "| environment | at rest, a month | 1M redirects (90% edge hits) | 1M creates "
        "| 1M counted clicks (edge) | budget default |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, env in output["environments"].items():
        clicks = env["counted_clicks_per_million_usd"]
        budget = CostAtRest(
            usd=env["at_rest_usd"],
            modelled_on=name,
            by_service={},
            traffic_allowance_usd=env["traffic_allowance_usd"],
            traffic_allowance="",
        ).budget_default_usd
        rows.append(
            f"| {name} | {_usd(env['at_rest_usd'])} | "
            f"{_usd(env['redirects_blended_per_million_usd'][ratio])} | "
            f"{_usd(env['creates_per_million_usd'])} | "
            f"{_usd(clicks['edge']) if clicks else 'no counting'} | {_usd(budget, 0)} |"
        )
    return "\n".join(rows)


def breakdown_table(output: dict[str, Any]) -> str:
    env = output["environments"][TARGET_ENVIRONMENT]
    hit = {c["component"]: c["usd"] for c in env["edge_hit_components"]}
    miss = {c["component"]: c["usd"] for c in env["edge_miss_components"]}
    ratio = ASSUMPTIONS.edge_hit_ratio
    rows = [
        f"| {TARGET_ENVIRONMENT}, USD per 1M | edge hit | edge miss (Lambda@Edge) | "
        f"at {ratio:.0%} hits |",
        "|---|---:|---:|---:|",
    ]
    for component, miss_usd in miss.items():
        hit_usd = hit.get(component, 0.0)
        blended = ratio * hit_usd + (1 - ratio) * miss_usd
        rows.append(
            f"| {component} | {_usd(hit_usd, 4)} | {_usd(miss_usd, 4)} | {_usd(blended, 4)} |"
        )
    target = output["target"]
    rows.append(
        f"| **total** | **{_usd(sum(hit.values()), 4)}** | **{_usd(sum(miss.values()), 4)}** | "
        f"**{_usd(target['usd'], 4)}** |"
    )
    return "\n".join(rows)


def target_line(output: dict[str, Any]) -> str:
    target = output["target"]
    verdict = "met" if target["met"] else "NOT met"
    bundled = target["with_security_savings_bundle_usd"] <= target["target_usd"]
    bundle_verdict = "met" if bundled else "NOT met"
    return (
        f"{target['what']}: {_usd(target['usd'], 4)} (target {_usd(target['target_usd'])}: "
        f"{verdict}). CloudFront's request fee and the CloudFront WAF's alone are "
        f"{_usd(target['floor_usd'], 4)} per 1M requests at every hit ratio; without the "
        "CloudFront web ACL the same traffic would cost "
        f"{_usd(target['without_edge_waf_usd'], 4)}. "
        f"With a CloudFront Security Savings Bundle (a 1-year monthly commitment: CloudFront "
        f"charges up to 30% lower, WAF usage credit up to 10% of the commitment) it would cost "
        f"{_usd(target['with_security_savings_bundle_usd'], 4)} "
        f"({bundle_verdict}), "
        f"and {_usd(target['with_bundle_without_edge_waf_usd'], 4)} with the bundle and without "
        f"the CloudFront web ACL"
    )


def dax_line(output: dict[str, Any]) -> str:
    parts = []
    for name, env in output["environments"].items():
        dax = env.get("dax")
        if dax:
            parts.append(
                f"{name}: DAX and its endpoints cost {_usd(dax['at_rest_usd'])} a month at rest "
                f"and save {_usd(dax['saving_per_million_regional_usd'], 4)} per 1M regional "
                f"redirects; they pay for themselves above "
                f"{dax['break_even_million_regional_redirects']:,}M regional redirects a month "
                f"(about {dax['break_even_regional_per_second']:,} a second, sustained), "
                f"while edge hits and edge misses never reach DAX"
            )
    return "\n".join(parts) if parts else "no environment has DAX on"


def cold_starts_table(output: dict[str, Any]) -> str:
    c = output["cold_start_prices"]
    return "\n".join(
        [
            "| one 512 MB function, one region | USD |",
            "|---|---:|",
            f"| SnapStart snapshot cache, a month | {_usd(c['snapstart_cache_month'])} |",
            f"| SnapStart restore, each | {_usd(c['snapstart_restore'], 6)} |",
            f"| provisioned concurrency 1, arm64, a month | "
            f"{_usd(c['provisioned_1_arm64_month'])} |",
            f"| provisioned concurrency 1, x86_64, a month | "
            f"{_usd(c['provisioned_1_x86_64_month'])} |",
        ]
    )


def assumptions_table(output: dict[str, Any]) -> str:
    rows = ["| assumption | value |", "|---|---|"]
    rows += [f"| `{k}` | {v} |" for k, v in output["assumptions"].items()]
    return "\n".join(rows)


BLOCKS = {
    "summary": summary_table,
    "at-rest": at_rest_table,
    "services": services_table,
    "marginal": marginal_table,
    "breakdown": breakdown_table,
    "target": target_line,
    "dax": dax_line,
    "assumptions": assumptions_table,
    "cold-starts": cold_starts_table,
    "cognito": cognito_table,
    "api-breakdown": api_breakdown_table,
}


def _marker(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- cost-model:{name} -->\n)(.*?)(<!-- /cost-model:{name} -->)", re.DOTALL
    )


def render_blocks(text: str, output: dict[str, Any]) -> str:
    """`text` with every marked block rewritten from `output`."""
    for name, renderer in BLOCKS.items():
        body = renderer(output)

        def replace(match: re.Match[str], body: str = body) -> str:
            return f"{match[1]}{body}\n{match[3]}"

        text = _marker(name).sub(replace, text)
    return text


def marked_files(root: Path) -> list[Path]:
    return [root / "README.md", root / "docs" / "deploy.md", root / "docs" / "cost.md"]


def plain(output: dict[str, Any]) -> str:
    """What `make cost` prints."""
    sections = [
        f"squrl cost model: prices of {output['prices_transcribed']} ({output['price_table']}), "
        f"{output['region_pricing']}",
        "Cost at rest by environment and region\n" + at_rest_table(output),
        "Cost at rest by service\n" + services_table(output),
        "Marginal cost\n" + marginal_table(output),
        f"Where 1M redirects go ({TARGET_ENVIRONMENT})\n" + breakdown_table(output),
        "Summary and budget defaults (cost at rest plus "
        f"{output['traffic_allowance']}, over the first alert's 80%)\n" + summary_table(output),
        f"Authenticated API requests, imports and the web app ({TARGET_ENVIRONMENT})\n"
        + api_breakdown_table(output),
        "Cognito monthly active users\n" + cognito_table(output),
        "DAX\n" + dax_line(output),
        "Target\n" + target_line(output),
    ]
    return "\n\n".join(sections) + "\n"

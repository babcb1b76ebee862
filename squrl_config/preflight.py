"""`make preflight ENV=name`: what must be set before a deploy, checked offline.

    python -m squrl_config.preflight ENV [-c KEY=VALUE ...]

It reads cdk.json and the same `-c squrl.<env>.<key>=<value>` overrides the CDK CLI takes, makes
no AWS call, and prints three lists: what must be set (placeholder accounts, domains and alarm
emails, regions not bootstrapped, a budget that alerts at rest), warnings, and the manual steps
that remain around the deploy. Exit status: 0 when nothing must be set, 1 when something must,
2 when the configuration itself is invalid.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.contracts import names
from squrl_config.context import ConfigError, load_config
from squrl_config.cost_at_rest import BUDGET_FIRST_ALERT_PERCENT, cost_at_rest, modelled
from squrl_config.models import EnvironmentConfig

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"

# Account ids that stand for "your account here": one digit twelve times (the committed
# 111111111111, 222222222222, ...) and the documentation examples.
_PLACEHOLDER_ACCOUNT = re.compile(r"^(\d)\1{11}$")
_EXAMPLE_ACCOUNTS = frozenset({"123456789012", "012345678901"})
# Names reserved for documentation and tests (RFC 2606, RFC 6761): nobody can own them.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")


def placeholder_account(account: str) -> bool:
    return bool(_PLACEHOLDER_ACCOUNT.match(account)) or account in _EXAMPLE_ACCOUNTS


def placeholder_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host.rsplit(".", 1)[-1] in _RESERVED_TLDS:
        return True
    return any(host == d or host.endswith("." + d) for d in _RESERVED_DOMAINS)


def regions_to_bootstrap(config: EnvironmentConfig) -> list[str]:
    """Every region a deploy of `config` puts a stack in: the serving regions (data, API,
    observability, click shipping) and CloudFront's region for the edge stack."""
    regions = list(config.serving_regions)
    if config.edge.enabled and names.CLOUDFRONT_REGION not in regions:
        regions.append(names.CLOUDFRONT_REGION)
    return regions


@dataclass(frozen=True)
class Finding:
    key: str  # the cdk.json key under squrl.environments.<env>
    message: str


@dataclass
class Report:
    config: EnvironmentConfig
    must_set: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    manual_steps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.must_set


def check(config: EnvironmentConfig) -> Report:
    report = Report(config)
    _check_account(config, report)
    _check_domain(config, report)
    _check_alarm_email(config, report)
    _check_bootstrap(config, report)
    _check_budget(config, report)
    _check_other_placeholders(config, report)
    _check_identity(config, report)
    report.manual_steps = manual_steps(config)
    return report


def _check_account(config: EnvironmentConfig, report: Report) -> None:
    if placeholder_account(config.account):
        report.must_set.append(
            Finding(
                "account",
                f"{config.account} is a placeholder: set the 12-digit id of the AWS account "
                f"{config.name} deploys into",
            )
        )
    else:
        report.checked.append(f"account {config.account}")


def _check_domain(config: EnvironmentConfig, report: Report) -> None:
    domain = config.short_domain
    if domain is None:
        report.checked.append(
            "no short domain: links use the API stage URL of the region that made them; the "
            "distribution answers on its *.cloudfront.net name"
        )
    elif placeholder_domain(domain):
        report.must_set.append(
            Finding(
                "short_domain",
                f"{domain} is reserved for documentation: its certificate can never validate "
                "and the edge stack would wait for it; set a domain you control, or null",
            )
        )
    else:
        zone = config.domain.hosted_zone_id
        report.checked.append(
            f"short domain {domain}"
            + (f" in Route 53 zone {zone}" if zone else " (records published by hand)")
        )


def _check_alarm_email(config: EnvironmentConfig, report: Report) -> None:
    email = config.observability.alarm_email
    if email is None:
        report.must_set.append(
            Finding(
                "observability.alarm_email",
                "not set: alarms, the canary and the budget would notify a topic nobody reads",
            )
        )
    elif placeholder_domain(email.rsplit("@", 1)[-1]):
        report.must_set.append(
            Finding(
                "observability.alarm_email",
                f"{email} is a placeholder address: set the address that is paged for "
                f"{config.name}",
            )
        )
    else:
        report.checked.append(f"alarm email {email}")


def _check_bootstrap(config: EnvironmentConfig, report: Report) -> None:
    needed = regions_to_bootstrap(config)
    missing = [r for r in needed if r not in config.deploy.bootstrapped_regions]
    if missing:
        targets = " ".join(f"aws://{config.account}/{region}" for region in missing)
        report.must_set.append(
            Finding(
                "deploy.bootstrapped_regions",
                f"{', '.join(missing)} not listed as bootstrapped. Every region {config.name} "
                f"deploys into ({', '.join(needed)}) needs the CDK bootstrap stack once per "
                f"account: run `make bootstrap ENV={config.name}` (node_modules/.bin/cdk "
                f"bootstrap {targets}), then list the regions in deploy.bootstrapped_regions",
            )
        )
    else:
        report.checked.append(f"bootstrapped: {', '.join(needed)}")


def _check_budget(config: EnvironmentConfig, report: Report) -> None:
    cost = cost_at_rest(config)
    if cost is None:
        modelled_envs = ", ".join(modelled()["environments"])
        if config.budget_usd is None:
            report.warnings.append(
                Finding(
                    "budget_usd",
                    "not set, and the cost model has no figure for this configuration's shape "
                    f"(it models the shapes of {modelled_envs}): no budget is created; set "
                    "budget_usd, or run `make cost` on this configuration",
                )
            )
            return
        report.warnings.append(
            Finding(
                "budget_usd",
                "the cost model has no cost-at-rest figure for this configuration's shape "
                f"(it models the shapes of {modelled_envs}); the budget of "
                f"${config.budget_usd:g} is not checked against it",
            )
        )
        return
    budget = config.budget_usd if config.budget_usd is not None else cost.budget_default_usd
    source = "budget_usd" if config.budget_usd is not None else "the model's default budget"
    first_alert = budget * BUDGET_FIRST_ALERT_PERCENT / 100
    figure = f"${cost.usd:.2f} a month at rest ({cost.summary})"
    if first_alert <= cost.usd:
        at_least = math.floor(cost.usd * 100 / BUDGET_FIRST_ALERT_PERCENT) + 1
        report.must_set.append(
            Finding(
                "budget_usd",
                f"${budget:g} alerts at rest: its first alert "
                f"({BUDGET_FIRST_ALERT_PERCENT}%, ${first_alert:g}) is not above what "
                f"{config.name} costs with no traffic, {figure}; set at least {at_least} "
                f"(the model's default, with {cost.traffic_allowance}, is "
                f"{cost.budget_default_usd:g})",
            )
        )
        return
    report.checked.append(
        f"budget ${budget:g} ({source}; first alert at ${first_alert:g}) is above the cost at "
        f"rest, ${cost.usd:.2f} (make cost)"
    )
    if budget < cost.budget_default_usd:
        report.warnings.append(
            Finding(
                "budget_usd",
                f"${budget:g} leaves less than the model's traffic allowance "
                f"({cost.traffic_allowance}, ${cost.traffic_allowance_usd:.2f}) above the cost "
                f"at rest before its first alert; the model's default is "
                f"{cost.budget_default_usd:g}",
            )
        )


def _check_other_placeholders(config: EnvironmentConfig, report: Report) -> None:
    for origin in config.api.cors_allowed_origins:
        host = origin.split("://", 1)[-1].split(":", 1)[0]
        if origin != "*" and placeholder_domain(host):
            report.warnings.append(
                Finding(
                    "api.cors_allowed_origins",
                    f"{origin} is a placeholder: browsers on your web app's origin are refused "
                    "until it is listed ([] when no browser calls the API)",
                )
            )
    base = config.observability.runbook_base_url
    if base and placeholder_domain(base.split("://", 1)[-1].split("/", 1)[0]):
        report.warnings.append(
            Finding("observability.runbook_base_url", f"{base} is a placeholder")
        )


# Environments real users sign up to: Cognito's own sender (about 50 emails a day) is too few.
PRODUCTION_LIKE = ("staging", "prod")


def _check_identity(config: EnvironmentConfig, report: Report) -> None:
    identity = config.identity
    if config.name in PRODUCTION_LIKE and identity.ses_email is None and not identity.user_pool_id:
        report.warnings.append(
            Finding(
                "identity.ses_email",
                "not set: Cognito sends sign-up and recovery emails itself, about 50 a day "
                "for the account; set a verified SES sender (docs/identity.md)",
            )
        )
    if identity.mfa != "REQUIRED":
        report.warnings.append(
            Finding(
                "identity.mfa",
                f"is {identity.mfa}: members of the admin group may change any link's status "
                "without a second factor (Cognito's tokens do not say how the user signed "
                'in); set "REQUIRED" where admins exist (docs/identity.md, "Admin")',
            )
        )


def canary_api_key_parameter(config: EnvironmentConfig) -> str:
    return config.observability.canary_api_key_parameter or f"/squrl/{config.name}/canary-api-key"


def manual_steps(config: EnvironmentConfig) -> list[str]:
    """What a person still does around `make deploy`, in order (docs/deploy.md explains each)."""
    env, home = config.name, config.home_region
    steps = []
    domain = config.short_domain
    if domain and config.domain.hosted_zone_id:
        steps.append(
            f"Before deploying: Route 53 zone {config.domain.hosted_zone_id} must be the one "
            f"the parent domain delegates {domain} to (its NS records); squrl writes the "
            "certificate validation and alias records there"
            + (f" and the latency records of api.{domain}" if config.api_host else "")
            + "."
        )
    elif domain:
        if config.edge.certificate_arn is None:
            steps.append(
                f"During the deploy: the edge stack waits for the certificate of {domain}. "
                "Publish the validation CNAME that the stack's events (and `aws acm "
                "describe-certificate --region us-east-1`) show, and keep it for renewals."
            )
        steps.append(
            f"After the deploy: publish the record of the edge stack's output "
            f"ShortDomainRecord ({domain} CNAME <distribution>.cloudfront.net); until then "
            "short links do not resolve."
        )
    topics = len(config.serving_regions)
    if config.observability.alarm_email:
        steps.append(
            f"After the deploy: confirm the alarm topic's email subscription, one email per "
            f"serving region ({topics}), sent to {config.observability.alarm_email}; until "
            "then alarms reach nobody."
        )
    if config.observability.canary:
        steps.append(
            f"After the deploy: create the SecureString parameter "
            f"{canary_api_key_parameter(config)} in {home} holding the value of the API key "
            f"in squrl-{env}-api-{home}'s output ApiKeyId (docs/operations.md); until then "
            "the canary fails and pages."
        )
    steps.append(
        "After the deploy: hand clients their API key (each region's ApiKeyId output; keys "
        "are regional)"
        + (f" and the one API host https://{config.api_host}." if config.api_host else ".")
    )
    if config.retain_data:
        steps.append(
            f"On teardown: `make destroy ENV={env}` keeps the table squrl-urls-{env} with its "
            "backups (retain_data), which the next `make deploy` adopts, and the user pool "
            "with its users, which it does not: before redeploying, set identity.user_pool_id "
            f"to the kept pool's id (the data stack's UserPoolId output, or pool_id in the SSM "
            f"parameter /squrl/{env}/identity/user-pool in {home}), or users get a new, empty pool "
            "and new user ids (docs/identity.md)."
        )
    else:
        steps.append(
            f"On teardown: the table keeps deletion protection; switch it off before "
            f"`make destroy ENV={env}` (docs/deploy.md)."
        )
    return steps


def render(report: Report) -> str:
    config = report.config
    lines = [
        f"squrl preflight: {config.name} (account {config.account}, home {config.home_region}, "
        f"serving {' '.join(config.serving_regions)})",
        "",
    ]
    prefix = f"squrl.environments.{config.name}."
    if report.must_set:
        lines.append(f"Must be set before deploying ({len(report.must_set)}):")
        lines += [f"  FAIL {prefix}{f.key}: {f.message}" for f in report.must_set]
        lines.append("")
    if report.warnings:
        lines.append(f"Warnings ({len(report.warnings)}):")
        lines += [f"  WARN {prefix}{f.key}: {f.message}" for f in report.warnings]
        lines.append("")
    if report.checked:
        lines.append("Checked:")
        lines += [f"  ok   {item}" for item in report.checked]
        lines.append("")
    lines.append("Manual steps that remain:")
    lines += [f"  {n}. {step}" for n, step in enumerate(report.manual_steps, 1)]
    lines.append("")
    if report.ok:
        lines.append(f"preflight passed: `make deploy ENV={config.name}` may run.")
    else:
        lines.append(
            f"preflight failed: set the {len(report.must_set)} value(s) above in cdk.json (or "
            f"pass -c squrl.{config.name}.<key>=<value>), then run `make preflight "
            f"ENV={config.name}` again."
        )
    return "\n".join(lines)


def parse_context_args(args: Sequence[str]) -> dict[str, str]:
    """`-c KEY=VALUE` / `--context KEY=VALUE` pairs, as the CDK CLI reads them."""
    context: dict[str, str] = {}
    items = iter(args)
    for arg in items:
        if arg in ("-c", "--context"):
            pair = next(items, None)
        elif arg.startswith("--context="):
            pair = arg.removeprefix("--context=")
        else:
            raise ConfigError(f"unexpected argument {arg!r}; use -c KEY=VALUE")
        if pair is None or "=" not in pair:
            raise ConfigError(f"-c needs KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        context[key] = value
    return context


def run(env: str, context: Mapping[str, Any]) -> Report:
    config = load_config(context)
    if env not in config.environments:
        known = ", ".join(sorted(config.environments))
        raise ConfigError(f"unknown environment {env!r}; known: {known}")
    return check(config.environments[env])


def main(argv: Sequence[str] | None = None, cdk_json: Path = CDK_JSON) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    targets_only = bool(args) and args[0] == "--bootstrap-targets"
    if targets_only:
        args = args[1:]
    if not args or args[0].startswith("-"):
        print(
            "usage: python -m squrl_config.preflight [--bootstrap-targets] ENV [-c KEY=VALUE ...]",
            file=sys.stderr,
        )
        return 2
    try:
        context = dict(json.loads(cdk_json.read_text())["context"])
        context |= parse_context_args(args[1:])
        report = run(args[0], context)
    except ConfigError as exc:
        print(f"squrl preflight: {exc}", file=sys.stderr)
        return 2
    if targets_only:
        # For `make bootstrap`: the environments `cdk bootstrap` takes.
        config = report.config
        print(" ".join(f"aws://{config.account}/{r}" for r in regions_to_bootstrap(config)))
        return 0
    print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

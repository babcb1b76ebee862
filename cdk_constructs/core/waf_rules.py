"""The WAFv2 pieces both web ACLs (regional API and CloudFront) share.

Rule names, priorities and response bodies are the same at both scopes, so the dashboards and
alarms read one set of metric names, and a throttled client sees the spec's 429 either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
RATE_RULE = "RateLimitPerIp"
RATE_LIMIT_BODY_KEY = "RateLimitExceeded"
# WAF re-evaluates a rate-based rule every few seconds over its window; once an address falls
# back under the limit it passes again, so a minute is an honest hint.
RETRY_AFTER_SECONDS = "60"


def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def error_body(error: str, message: str) -> wafv2.CfnWebACL.CustomResponseBodyProperty:
    """A WAF response body in the spec's error shape."""
    return wafv2.CfnWebACL.CustomResponseBodyProperty(
        content_type="APPLICATION_JSON",
        content=json.dumps({"error": error, "message": message, "details": None}),
    )


def managed_rule_groups(
    first_priority: int,
    overrides: dict[str, Sequence[wafv2.CfnWebACL.RuleActionOverrideProperty]] | None = None,
) -> list[wafv2.CfnWebACL.RuleProperty]:
    """AWS's common, known-bad-inputs and IP-reputation groups, in that order."""
    return [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=first_priority + index,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name=group,
                    rule_action_overrides=list((overrides or {}).get(group, [])) or None,
                )
            ),
            visibility_config=visibility(group),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]


def rate_limit_rule(
    priority: int,
    limit: int,
    scope_down: wafv2.CfnWebACL.StatementProperty | None = None,
    name: str = RATE_RULE,
) -> wafv2.CfnWebACL.RuleProperty:
    """Per-IP rate rule answering 429 `RateLimitExceeded` with `Retry-After`; with `scope_down`,
    only the requests it matches are counted and limited."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429,
                    custom_response_body_key=RATE_LIMIT_BODY_KEY,
                    response_headers=[
                        wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                            name="Retry-After", value=RETRY_AFTER_SECONDS
                        )
                    ],
                )
            )
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=limit, scope_down_statement=scope_down
            )
        ),
        visibility_config=visibility(name),
    )


def web_acl(
    scope: Construct,
    *,
    name: str,
    waf_scope: str,
    rules: list[wafv2.CfnWebACL.RuleProperty],
    bodies: dict[str, wafv2.CfnWebACL.CustomResponseBodyProperty],
) -> wafv2.CfnWebACL:
    """An allow-by-default web ACL; the rate rule's body is always included."""
    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        name=name,
        scope=waf_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=rules,
        custom_response_bodies={
            RATE_LIMIT_BODY_KEY: error_body(
                "RateLimitExceeded", "Too many requests from this address; retry later."
            ),
            **bodies,
        },
        visibility_config=visibility(name),
    )

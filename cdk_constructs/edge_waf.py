"""CLOUDFRONT-scope WAFv2 web ACL for the edge distribution (must live in us-east-1)."""

from __future__ import annotations

import json

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_constructs.regional_waf import MANAGED_RULE_GROUPS
from stacks.config import WafConfig

# WAF re-evaluates a rate-based rule every few seconds over its window; once an address falls
# back under the limit it passes again, so a minute is an honest hint.
RETRY_AFTER_SECONDS = "60"


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class EdgeWaf(Construct):
    """AWS managed rule groups and a per-IP rate rule answering SPEC's 429 (`.web_acl`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, settings: WafConfig
    ) -> None:
        super().__init__(scope, construct_id)
        rules: list[wafv2.CfnWebACL.RuleProperty] = []
        if settings.managed_rules:
            for priority, group in enumerate(MANAGED_RULE_GROUPS):
                rules.append(
                    wafv2.CfnWebACL.RuleProperty(
                        name=group,
                        priority=priority,
                        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                        statement=wafv2.CfnWebACL.StatementProperty(
                            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                                vendor_name="AWS", name=group
                            )
                        ),
                        visibility_config=_visibility(group),
                    )
                )
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=429,
                            custom_response_body_key="RateLimitExceeded",
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
                        aggregate_key_type="IP", limit=settings.rate_limit
                    )
                ),
                visibility_config=_visibility("RateLimitPerIp"),
            )
        )
        body = {
            "error": "RateLimitExceeded",
            "message": "Too many requests from this address; retry later.",
            "details": None,
        }
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            custom_response_bodies={
                "RateLimitExceeded": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=json.dumps(body)
                )
            },
            visibility_config=_visibility(name),
        )

"""Regional WAFv2 web ACL for the REST API stage."""

from __future__ import annotations

import json

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.config import WafConfig

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
# SPEC section 2: bodies over 8 KiB are PayloadTooLarge (413). The common rule set's own body
# size rule would answer 403 first, so it only counts and the squrl rule below answers 413.
MAX_BODY_BYTES = 8192
_COMMON_SIZE_RULE = "SizeRestrictions_BODY"


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _error_json(error: str, message: str) -> str:
    return json.dumps({"error": error, "message": message, "details": None})


class RegionalWaf(Construct):
    """Managed rule groups, a body-size rule (413) and a per-IP rate rule (429)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        settings: WafConfig,
        resource_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        rules: list[wafv2.CfnWebACL.RuleProperty] = []
        priority = 0
        if settings.managed_rules:
            for group in MANAGED_RULE_GROUPS:
                overrides = None
                if group == "AWSManagedRulesCommonRuleSet":
                    overrides = [
                        wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=_COMMON_SIZE_RULE,
                            action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                        )
                    ]
                rules.append(
                    wafv2.CfnWebACL.RuleProperty(
                        name=group,
                        priority=priority,
                        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                        statement=wafv2.CfnWebACL.StatementProperty(
                            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                                vendor_name="AWS", name=group, rule_action_overrides=overrides
                            )
                        ),
                        visibility_config=_visibility(group),
                    )
                )
                priority += 1
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="BodyTooLarge",
                priority=priority,
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=413, custom_response_body_key="PayloadTooLarge"
                        )
                    )
                ),
                statement=wafv2.CfnWebACL.StatementProperty(
                    size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                            body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                        ),
                        comparison_operator="GT",
                        size=MAX_BODY_BYTES,
                        text_transformations=[
                            wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                        ],
                    )
                ),
                visibility_config=_visibility("BodyTooLarge"),
            )
        )
        priority += 1
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=priority,
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=429,
                            custom_response_body_key="RateLimitExceeded",
                            # The rate window slides over 5 minutes; a minute is a fair hint.
                            response_headers=[
                                wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                    name="Retry-After", value="60"
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
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            custom_response_bodies={
                "PayloadTooLarge": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=_error_json("PayloadTooLarge", "The request body is over 8 KiB."),
                ),
                "RateLimitExceeded": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=_error_json(
                        "RateLimitExceeded", "Too many requests from this address; retry later."
                    ),
                ),
            },
            visibility_config=_visibility(name),
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn
        )

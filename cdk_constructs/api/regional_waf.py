"""Regional WAFv2 web ACL for the REST API stage."""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_constructs.core.waf_rules import (
    error_body,
    managed_rule_groups,
    rate_limit_rule,
    visibility,
    web_acl,
)
from shared.contracts.http import ORIGIN_ROLE_HEADER
from squrl_config import WafConfig

# docs/api.md section 2: bodies over 8 KiB are PayloadTooLarge (413). The common rule set's own body
# size rule would answer 403 first, so it only counts and the squrl rule below answers 413.
MAX_BODY_BYTES = 8192
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
# The common rule set's body rules only count here. A create body is a URL, and valid or not,
# it is squrl's validation that must answer (docs/api.md section 3), not a WAF 403: an IPv4 host
# trips GenericRFI_BODY (`http://93.184.216.34/`), 169.254.169.254 trips EC2MetaDataSSRF_BODY (a 400
# `private_address`), `../` in a path trips GenericLFI_BODY and `<script` in a query trips
# CrossSiteScripting_BODY (both are valid destinations, stored as given and only ever sent in
# `Location`). The same rules keep blocking URI paths, query strings and cookies, and the
# CloudFront ACL keeps all of them (redirects have no body).
COUNTED_BODY_RULES = (
    "SizeRestrictions_BODY",
    "EC2MetaDataSSRF_BODY",
    "GenericLFI_BODY",
    "GenericRFI_BODY",
    "CrossSiteScripting_BODY",
)


EDGE_FALLBACK_RATE_RULE = "RateLimitPerEdgeAddress"


def an_edge_read() -> wafv2.CfnWebACL.StatementProperty:
    """A GET or HEAD carrying the header CloudFront adds on its way to a regional origin.

    Redirects reach a regional API through CloudFront only on the fallback path (a failed replica
    read, the home region down), and then all viewers behind one CloudFront node share its
    address: the per-IP limit would answer 429 to real visitors exactly when failover traffic
    peaks. Those viewers are limited per IP by the CloudFront ACL, so here such requests get a
    much higher per-address limit of their own. The header is not a secret: a direct client
    sending it moves to that higher limit, no further, and a create (POST) never does.
    """
    text = [wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]

    def method_is(method: str) -> wafv2.CfnWebACL.StatementProperty:
        return wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(method={}),
                positional_constraint="EXACTLY",
                search_string=method,
                text_transformations=text,
            )
        )

    from_cloudfront = wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                single_header={"Name": ORIGIN_ROLE_HEADER}
            ),
            comparison_operator="GT",
            size=0,
            text_transformations=text,
        )
    )
    a_read = wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[method_is("GET"), method_is("HEAD")]
        )
    )
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[from_cloudfront, a_read])
    )


class RegionalWaf(Construct):
    """Managed rule groups (body rules counted), a body-size rule (413) and per-IP rate rules
    (429): one for CloudFront's fallback reads, one for everything else.

    Exposes `.web_acl` and `.name` (the ACL's name, which its CloudWatch metrics carry)."""

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
        self.name = name
        rules: list[wafv2.CfnWebACL.RuleProperty] = []
        if settings.managed_rules:
            counted = [
                wafv2.CfnWebACL.RuleActionOverrideProperty(
                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                )
                for rule in COUNTED_BODY_RULES
            ]
            rules = managed_rule_groups(0, {COMMON_RULE_SET: counted})
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="BodyTooLarge",
                priority=len(rules),
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
                visibility_config=visibility("BodyTooLarge"),
            )
        )
        edge_read = an_edge_read()
        everything_else = wafv2.CfnWebACL.StatementProperty(
            not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=edge_read)
        )
        rules.append(rate_limit_rule(len(rules), settings.rate_limit, everything_else))
        rules.append(
            rate_limit_rule(
                len(rules),
                settings.edge_fallback_rate_limit,
                edge_read,
                name=EDGE_FALLBACK_RATE_RULE,
            )
        )
        self.web_acl = web_acl(
            self,
            name=name,
            waf_scope="REGIONAL",
            rules=rules,
            bodies={
                "PayloadTooLarge": error_body("PayloadTooLarge", "The request body is over 8 KiB.")
            },
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn
        )

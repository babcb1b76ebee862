"""CLOUDFRONT-scope WAFv2 web ACL for the edge distribution (must live in us-east-1)."""

from __future__ import annotations

from constructs import Construct

from cdk_constructs.core.waf_rules import managed_rule_groups, rate_limit_rule, web_acl
from squrl_config import WafConfig


class EdgeWaf(Construct):
    """AWS managed rule groups and a per-IP rate rule answering the spec's 429 (docs/api.md
    section 2).

    Exposes `.web_acl` and `.name` (the ACL's name, which its CloudWatch metrics carry)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, settings: WafConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        rules = managed_rule_groups(0) if settings.managed_rules else []
        rules.append(rate_limit_rule(len(rules), settings.rate_limit))
        self.web_acl = web_acl(self, name=name, waf_scope="CLOUDFRONT", rules=rules, bodies={})

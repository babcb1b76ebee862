"""squrl's constructs, by domain; stacks/ wires them together.

- `core/`: what every domain builds on: the one way to build a function (`squrl_function`,
  `bundling`), cdk-nag acknowledgments, the links table, the DAX cache, the shared WAF rules.
- `api/`: the regional REST API and its web ACL.
- `edge/`: the Lambda@Edge redirect, the viewer-request format function, real-time logs and the
  CloudFront web ACL.
- `clicks/`: the click consumer, the data lake and the shipping of regional click lines.
- `observability/`: what is watched (`sources`), metrics, alarms, their topic, runbooks, the
  budget, the canary and the dashboards.

Constructs import `squrl_config` and `shared.contracts`, never `stacks`.
"""

"""squrl's runtime library: what the Lambda functions import, by capability.

- `contracts/`: what the runtime, the infrastructure and the local server must agree on
  (table, names, metrics, routes, headers); standard library only.
- `links/`: the API functions' domain.
- `redirect/`: both redirect paths (the hot path: standard library and boto3 only).
- `clicks/`: click events, their producer, the counter and the stats read side.
- `settings`: configuration from environment variables, read by every capability.

Modules here never import the CDK (import-linter keeps it so: see pyproject.toml).
"""

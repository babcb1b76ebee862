"""squrl's runtime library: what every Lambda function imports.

Modules here never import the CDK. The redirect hot path imports only `shared.redirect`,
`shared.codes`, `shared.table` and `shared.http` (all pure standard library).
"""

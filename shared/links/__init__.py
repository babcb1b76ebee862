"""Links: the API functions' domain (create, read; later list, edit, delete).

`api` (Powertools resolver, logging, metrics, tracing), `models` (pydantic request and
response shapes), `service` (the use cases), `repository` (DynamoDB access), `urls` (docs/api.md
section 3's URL rules), `codes` (generation and custom-code rules) and `errors` (the spec's
error codes). Never imported by the redirect paths.
"""

"""Links: the API functions' domain (create, read, list, edit, delete, history).

`api` (Powertools resolver, logging, metrics, tracing), `models` (pydantic request and
response shapes, If-Match and ETags), `service` (the use cases), `repository` (DynamoDB access),
`listing` (GET /urls's parameters, cursor and filters), `history` (what each version changed),
`idempotency` (Idempotency-Key on create, Powertools' utility), `urls` (docs/api.md section 3's
URL rules), `codes` (generation and custom-code rules) and `errors` (the spec's error codes).
Never imported by the redirect paths.
"""

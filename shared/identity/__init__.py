"""Identity (docs/api.md section 8): personal tokens, Cognito JWT verification, the authorizer's
decision, and the account routes' domain (/me, its export and erasure).

The authorizer's modules (`jwt`, `tokens`, `authorizer`) use the standard library and a
DynamoDB client passed in: no Powertools, no pydantic, so the authorizer starts fast.
"""

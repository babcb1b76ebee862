"""Identity: the Cognito user pool and the API authorizer (docs/identity.md)."""

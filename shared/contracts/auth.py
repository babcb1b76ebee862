"""Identity's contract (docs/api.md section 8): token scopes and the authorizer's context.

The authorizer (in AWS a Lambda REQUEST authorizer, locally the same code in the gateway) puts
these keys in `requestContext.authorizer`; every authenticated handler reads the caller from
there. API Gateway passes only strings, numbers and booleans, so lists travel space-separated.
"""

from __future__ import annotations

LINKS_READ = "links:read"
LINKS_WRITE = "links:write"
STATS_READ = "stats:read"
SCOPES = (LINKS_READ, LINKS_WRITE, STATS_READ)

TOKEN_PREFIX = "squrl_"
ADMIN_GROUP = "admin"

# Keys of the authorizer context.
CONTEXT_OWNER_ID = "owner_id"
CONTEXT_SCOPES = "scopes"  # space-separated; every scope for users and API keys
CONTEXT_GROUPS = "groups"  # space-separated Cognito groups
CONTEXT_EMAIL = "email"
CONTEXT_PRINCIPAL = "principal"  # "user" | "token" | "api_key"
CONTEXT_TOKEN_ID = "token_id"  # the personal token's id, when the caller used one

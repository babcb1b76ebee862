"""The identity routes' bodies as pydantic models (docs/api.md section 8): the request POST
/tokens is validated with, and the answers of the token and account routes. The OpenAPI
document (shared/openapi.py) is generated from them; unit tests validate the handlers'
real answers against them, so the document cannot drift from what the routes send."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.identity.tokens import DEFAULT_EXPIRES_IN_DAYS, MAX_EXPIRES_IN_DAYS, NAME_MAX
from shared.imports.schemas import ImportJob
from shared.links.schemas import HistoryEntry, Link, LinkStats

Scope = Literal["links:read", "links:write", "stats:read"]
TOKEN_ID_PATTERN = "^tok_[0-9a-f]{16}$"
TOKEN_PATTERN = "^squrl_[A-Za-z0-9_-]{43}$"


class CreateTokenRequest(BaseModel):
    """POST /tokens. A caller may only grant scopes it has itself (checked after this)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=r"\S")
    scopes: list[Scope] = Field(min_length=1)
    expires_in_days: int = Field(
        default=DEFAULT_EXPIRES_IN_DAYS,
        ge=1,
        le=MAX_EXPIRES_IN_DAYS,
        description='Days until it expires: a JSON integer (`7`, not `7.0` or `"7"`).',
    )


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TokenFields(_Answer):
    id: str = Field(pattern=TOKEN_ID_PATTERN)
    name: str
    scopes: list[Scope]
    created_at: str = Field(description="ISO 8601 UTC, ending in Z.")
    expires_at: str = Field(description="ISO 8601 UTC, ending in Z.")


class CreatedToken(_TokenFields):
    """POST /tokens' answer: the only time the secret is shown."""

    token: str = Field(pattern=TOKEN_PATTERN, description="The secret; stored only as a hash.")


class TokenView(_TokenFields):
    """A token as GET /tokens and the export show it: never the secret or its hash."""

    last_used_at: str | None = Field(description="ISO 8601 UTC (to 15 minutes), or null.")


class TokenList(_Answer):
    items: list[TokenView] = Field(description="The caller's live tokens, newest first.")


class Me(_Answer):
    user_id: str = Field(description="The owner id, the same in every region.")
    email: str | None = Field(description="The user's email; null for an API key.")
    groups: list[str] = Field(description="The user's groups, sorted (`admin`...).")


class ExportedLink(Link):
    stats: LinkStats
    history: list[HistoryEntry] = Field(description="Oldest first.")


class AccountExport(_Answer):
    """GET /me/export: everything the caller has, as one document (GDPR access)."""

    exported_at: str = Field(description="ISO 8601 UTC, ending in Z.")
    user: Me
    links: list[ExportedLink] = Field(description="Newest first, with stats and history.")
    tokens: list[TokenView]
    imports: list[ImportJob] = Field(description="The caller's import jobs, with their errors.")

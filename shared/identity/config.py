"""Identity's configuration from environment variables (set by the api stack, or locally by
the dev server). Standard library only."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from shared.identity.authorizer import DEFAULT_TOKEN_CACHE_SECONDS
from shared.identity.jwt import CognitoPool


@dataclass(frozen=True)
class IdentitySettings:
    # The Cognito user pool (home region); None when the environment has none (locally).
    pool: CognitoPool | None
    # How long the authorizer trusts a looked-up token (0 locally: revocation is immediate).
    token_cache_seconds: float
    # The API key (id) that bearer callers are metered under in the usage plan.
    bearer_usage_key_id: str
    # In AWS the pool's ids are in an SSM parameter of the home region (an API stack in another
    # region cannot reference them): its name and region.
    pool_parameter: str
    pool_parameter_region: str
    # Migration (docs/identity.md): API key id -> the user id its caller acts as.
    key_owners: dict[str, str]

    def resolve_pool(self, get_parameter: Callable[[str, str], str]) -> CognitoPool | None:
        """The pool: from the environment, else read once from the SSM parameter."""
        if self.pool is not None or not self.pool_parameter:
            return self.pool
        return pool_from_parameter(get_parameter(self.pool_parameter, self.pool_parameter_region))


def pool_from_parameter(value: str) -> CognitoPool:
    data = json.loads(value)
    return CognitoPool(str(data["region"]), str(data["pool_id"]), tuple(data["client_ids"]))


@lru_cache(maxsize=1)
def identity_settings() -> IdentitySettings:
    pool_id = os.environ.get("SQURL_USER_POOL_ID", "")
    clients = tuple(
        c.strip() for c in os.environ.get("SQURL_USER_POOL_CLIENT_IDS", "").split(",") if c.strip()
    )
    region = (
        os.environ.get("SQURL_USER_POOL_REGION")
        or os.environ.get("SQURL_HOME_REGION")
        or os.environ.get("AWS_REGION", "us-east-1")
    )
    return IdentitySettings(
        pool=CognitoPool(region, pool_id, clients) if pool_id and clients else None,
        token_cache_seconds=float(
            os.environ.get("SQURL_AUTH_CACHE_SECONDS", str(DEFAULT_TOKEN_CACHE_SECONDS))
        ),
        bearer_usage_key_id=os.environ.get("SQURL_BEARER_USAGE_KEY_ID", ""),
        pool_parameter=os.environ.get("SQURL_USER_POOL_PARAMETER", ""),
        pool_parameter_region=region,
        key_owners=json.loads(os.environ.get("SQURL_KEY_OWNERS") or "{}"),
    )

"""The Lambda REQUEST authorizer of every regional API (docs/identity.md): the decision of
shared/identity/authorizer.py as an IAM policy, the authorizer context and the usage key.

No Powertools and no pydantic: it runs before every authenticated request. It logs who was
let in or refused, never a credential.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from shared.identity.authorizer import REFUSED, Authorizer, Decision, policy
from shared.identity.config import identity_settings
from shared.identity.jwt import CognitoVerifier
from shared.identity.tokens import TokenStore
from shared.settings import settings

logger = logging.getLogger("squrl.authorizer")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2})

config = settings()
identity = identity_settings()


def read_parameter(name: str, region: str) -> str:
    client = boto3.client("ssm", region_name=region, config=CLIENT_CONFIG)
    return str(client.get_parameter(Name=name)["Parameter"]["Value"])


def read_api_key(key_id: str, region: str) -> str:
    client = boto3.client("apigateway", region_name=region, config=CLIENT_CONFIG)
    return str(client.get_api_key(apiKey=key_id, includeValue=True)["value"])


def pool_verifier() -> CognitoVerifier | None:
    """The user pool's verifier: from the environment, else its SSM parameter (home region)."""
    pool = identity.resolve_pool(read_parameter)
    return CognitoVerifier(pool) if pool else None


def build_authorizer(tokens: TokenStore) -> Authorizer:
    # The pool is resolved on the first JWT only: API key and token callers never wait on (or
    # fail with) the home region's SSM.
    return Authorizer(
        tokens,
        None,
        cache_seconds=identity.token_cache_seconds,
        load_verifier=pool_verifier,
    )


@lru_cache(maxsize=1)
def authorizer() -> Authorizer:
    # Reads the local replica: a token made or revoked in the home region is seen here once
    # the global table has replicated it (about a second).
    client = boto3.client("dynamodb", region_name=config.region, config=CLIENT_CONFIG)
    return build_authorizer(TokenStore(client, config.table_name))


@lru_cache(maxsize=1)
def bearer_usage_key() -> str | None:
    """The value of the API key bearer callers are metered under: read on the first token or
    user decision and kept for the life of the execution environment (a failure is not kept)."""
    if not identity.bearer_usage_key_id:
        return None
    return read_api_key(identity.bearer_usage_key_id, config.region)


def usage_key(decision: Decision) -> tuple[Decision, str | None]:
    """The decision and the usage key API Gateway meters it under. An x-api-key caller's key is
    its own (no API Gateway call); a token or user whose key cannot be read is refused."""
    if not decision.allowed or decision.api_key is not None:
        return decision, None
    try:
        return decision, bearer_usage_key()
    except Exception:
        logger.warning("the bearer usage key could not be read: bearer caller refused")
        return REFUSED, None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or ""
    decision, key = usage_key(authorizer().decide(event.get("headers"), source))
    logger.info(
        json.dumps(
            {
                "message": "authorized" if decision.allowed else "refused",
                "principal": decision.principal,
                "owner_id": decision.owner_id,
                "token_id": decision.token_id,
                "path": event.get("path"),
            }
        )
    )
    return policy(decision, str(event.get("methodArn", "")), key)

"""The authorizer's decisions (shared/identity/authorizer.py) and its Lambda answer."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.contracts.auth import (
    CONTEXT_GROUPS,
    CONTEXT_OWNER_ID,
    CONTEXT_PRINCIPAL,
    CONTEXT_SCOPES,
    CONTEXT_TOKEN_ID,
    LINKS_READ,
    SCOPES,
)
from shared.identity.authorizer import (
    MAX_FAILURES,
    REFUSED,
    Authorizer,
    FailureLimiter,
    policy,
)
from shared.identity.jwt import CognitoVerifier, Jwks
from shared.identity.tokens import TokenStore
from tests.unit.test_identity_jwt import NOW, POOL, claims, jwk_of, sign

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/urls"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def store(dynamodb: Any) -> TokenStore:
    return TokenStore(dynamodb, os.environ["SQURL_TABLE_NAME"])


def make(store: TokenStore, key: rsa.RSAPrivateKey, **options: Any) -> Authorizer:
    jwks = Jwks(POOL.jwks_url, fetch=lambda url: {"keys": [jwk_of(key, "k1")]}, clock=lambda: NOW)
    verifier = CognitoVerifier(POOL, jwks, clock=lambda: NOW)
    options.setdefault("cache_seconds", 0)
    return Authorizer(store, verifier, clock=lambda: NOW, **options)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def test_a_personal_token_is_its_owner_with_its_scopes(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    record, secret = store.create("user-1", "ci", (LINKS_READ,), 1, NOW)
    decision = make(store, key).decide(bearer(secret), "192.0.2.1")
    assert decision.allowed
    context = decision.context()
    assert context[CONTEXT_OWNER_ID] == "user-1"
    assert context[CONTEXT_SCOPES] == "links:read"
    assert context[CONTEXT_PRINCIPAL] == "token"
    assert context[CONTEXT_TOKEN_ID] == record.id
    answer = policy(decision, ARN, "bearer-usage-key")
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["usageIdentifierKey"] == "bearer-usage-key"
    assert all(isinstance(v, str) for v in answer["context"].values())


def test_a_cognito_jwt_is_its_user_with_every_scope_and_its_groups(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    decision = make(store, key).decide(bearer(sign(key, claims())), "192.0.2.1")
    context = decision.context()
    assert context[CONTEXT_OWNER_ID] == "7d8f0c1e-1111-4222-8333-444455556666"
    assert context[CONTEXT_SCOPES].split() == list(SCOPES)
    assert context[CONTEXT_GROUPS] == "admin"
    assert context[CONTEXT_PRINCIPAL] == "user"


@pytest.mark.parametrize("headers", [{"x-api-key": "k-123"}, {"Authorization": "Bearer k-123"}])
def test_an_api_key_is_left_to_api_gateway_as_the_usage_key(
    store: TokenStore, key: rsa.RSAPrivateKey, headers: dict[str, str]
) -> None:
    decision = make(store, key).decide(headers, "192.0.2.1")
    assert decision.allowed and decision.principal == "api_key"
    # API Gateway checks the key and names its id; the handlers read the owner from there.
    assert decision.owner_id == ""
    answer = policy(decision, ARN, "bearer-usage-key")
    assert answer["usageIdentifierKey"] == "k-123"
    assert answer["context"][CONTEXT_SCOPES].split() == list(SCOPES)


def test_refusals_look_the_same_whatever_the_reason(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    revoked, revoked_secret = store.create("user-1", "old", SCOPES, 1, NOW)
    store.revoke("user-1", revoked.id, NOW)
    _, expired_secret = store.create("user-1", "short", SCOPES, 1, NOW - 86400)
    authorizer = make(store, key)
    answers = [
        authorizer.decide(headers, f"198.51.100.{n}")
        for n, headers in enumerate(
            [
                {},
                {"Authorization": "Basic dXNlcjpwYXNz"},
                {"Authorization": "Bearer"},
                bearer("squrl_" + "A" * 43),
                bearer(revoked_secret),
                bearer(expired_secret),
                bearer(sign(key, claims(exp=NOW - 3600))),
                bearer(sign(key, claims(iss="https://evil.example/"))),
            ]
        )
    ]
    assert all(answer == REFUSED for answer in answers)
    denied = policy(REFUSED, ARN, "bearer-usage-key")
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in denied and "usageIdentifierKey" not in denied


def test_a_revoked_token_is_refused_at_once_without_a_cache(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    record, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    authorizer = make(store, key)
    assert authorizer.decide(bearer(secret), "192.0.2.1").allowed
    store.revoke("user-1", record.id, NOW)
    assert not authorizer.decide(bearer(secret), "192.0.2.1").allowed


def test_the_token_cache_is_capped_at_300_seconds(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    assert make(store, key, cache_seconds=3600).cache.seconds == 300


def test_repeated_failures_from_one_source_hold_back_unseen_tokens_for_a_while(
    store: TokenStore, key: rsa.RSAPrivateKey
) -> None:
    clock = [0.0]
    authorizer = make(store, key, limiter=FailureLimiter(clock=lambda: clock[0]))
    _, known = store.create("user-1", "known", SCOPES, 1, NOW)
    _, fresh = store.create("user-1", "fresh", SCOPES, 1, NOW)
    assert authorizer.decide(bearer(known), "203.0.113.9").allowed
    for _ in range(MAX_FAILURES):
        assert not authorizer.decide(bearer("squrl_" + "B" * 43), "203.0.113.9").allowed
    # Past the limit, a token never seen valid is refused without a lookup from that source;
    # one seen valid, a JWT, and every other source are not affected.
    reads = []
    original = store.find
    store.find = lambda credential, **kw: reads.append(1) or original(credential, **kw)  # type: ignore[method-assign]
    assert not authorizer.decide(bearer(fresh), "203.0.113.9").allowed
    assert not authorizer.decide(bearer("squrl_" + "D" * 43), "203.0.113.9").allowed
    assert reads == []
    assert authorizer.decide(bearer(known), "203.0.113.9").allowed
    assert authorizer.decide(bearer(sign(key, claims())), "203.0.113.9").allowed
    assert authorizer.decide(bearer(fresh), "203.0.113.10").allowed
    clock[0] += 61
    assert authorizer.decide(bearer(fresh), "203.0.113.9").allowed


def test_no_credential_in_any_log_line(
    store: TokenStore,
    key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.authorizer import handler as authorizer_function

    _, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    jwt = sign(key, claims())
    bad_jwt = sign(key, claims(exp=NOW - 3600))
    monkeypatch.setattr(authorizer_function, "authorizer", lambda: make(store, key))
    monkeypatch.setattr(authorizer_function, "bearer_usage_key", lambda: None)
    for name in ("squrl.authorizer", "shared"):
        caplog.set_level(logging.DEBUG, logger=name)
    for credential in (secret, jwt, bad_jwt, "squrl_" + "C" * 43):
        event = {"headers": bearer(credential), "methodArn": ARN, "path": "/urls"}
        authorizer_function.handler(event, None)
    logged = caplog.text
    assert "authorized" in logged and "refused" in logged
    for credential in (secret, secret[6:], jwt, bad_jwt, jwt.split(".")[2]):
        assert credential not in logged


class Unreachable(Exception):
    """What a fake SSM or API Gateway raises: the home region or the control plane is down."""


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The authorizer function with SSM and API Gateway failing; counts their calls."""
    import dataclasses

    from functions.authorizer import handler as authorizer_function

    calls = {"ssm": 0, "apigateway": 0}

    def read_parameter(name: str, region: str) -> str:
        calls["ssm"] += 1
        raise Unreachable(name)

    def read_api_key(key_id: str, region: str) -> str:
        calls["apigateway"] += 1
        raise Unreachable(key_id)

    monkeypatch.setattr(authorizer_function, "read_parameter", read_parameter)
    monkeypatch.setattr(authorizer_function, "read_api_key", read_api_key)
    settings = dataclasses.replace(
        authorizer_function.identity,
        pool=None,
        pool_parameter="/squrl/prod/identity/user-pool",
        pool_parameter_region="us-east-1",
        bearer_usage_key_id="bearerkeyid",
        token_cache_seconds=0,
    )
    monkeypatch.setattr(authorizer_function, "identity", settings)
    authorizer_function.bearer_usage_key.cache_clear()
    yield calls
    authorizer_function.bearer_usage_key.cache_clear()


def invoke(authorizer: Authorizer, headers: dict[str, str], monkeypatch: Any) -> dict[str, Any]:
    from functions.authorizer import handler as authorizer_function

    monkeypatch.setattr(authorizer_function, "authorizer", lambda: authorizer)
    event = {"headers": headers, "methodArn": ARN, "path": "/urls"}
    return authorizer_function.handler(event, None)


def effect(answer: dict[str, Any]) -> str:
    return str(answer["policyDocument"]["Statement"][0]["Effect"])


def test_api_key_callers_need_neither_ssm_nor_api_gateway(
    store: TokenStore, outage: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.authorizer import handler as authorizer_function

    authorizer = authorizer_function.build_authorizer(store)
    for _ in range(3):
        answer = invoke(authorizer, {"x-api-key": "client-key-value"}, monkeypatch)
        assert effect(answer) == "Allow"
        assert answer["usageIdentifierKey"] == "client-key-value"
    assert outage == {"ssm": 0, "apigateway": 0}


def test_an_unresolvable_pool_refuses_only_jwts(
    store: TokenStore,
    key: rsa.RSAPrivateKey,
    outage: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.authorizer import handler as authorizer_function

    authorizer = authorizer_function.build_authorizer(store)
    _, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    # A personal token is checked without the pool (its usage key is unreadable here: refused,
    # never a 500).
    monkeypatch.setattr(authorizer_function, "read_api_key", lambda key_id, region: "bearer-key")
    answer = invoke(authorizer, bearer(secret), monkeypatch)
    assert effect(answer) == "Allow"
    assert answer["usageIdentifierKey"] == "bearer-key"
    assert outage["ssm"] == 0
    # A JWT while the pool's parameter is unreachable: a refusal (403), not an exception.
    answer = invoke(authorizer, bearer(sign(key, claims())), monkeypatch)
    assert effect(answer) == "Deny"
    assert outage["ssm"] == 1
    # ...and the API key caller after it still gets in.
    assert effect(invoke(authorizer, {"x-api-key": "k"}, monkeypatch)) == "Allow"


def test_the_bearer_usage_key_is_read_once_and_only_for_bearer_callers(
    store: TokenStore, outage: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.authorizer import handler as authorizer_function

    authorizer = authorizer_function.build_authorizer(store)
    _, secret = store.create("user-1", "ci", SCOPES, 1, NOW)
    # API Gateway's control plane down: the token caller is refused (403), never a 500.
    answer = invoke(authorizer, bearer(secret), monkeypatch)
    assert effect(answer) == "Deny"
    assert "usageIdentifierKey" not in answer
    assert outage["apigateway"] == 1
    reads: list[str] = []

    def read_api_key(key_id: str, region: str) -> str:
        reads.append(key_id)
        return "bearer-key"

    monkeypatch.setattr(authorizer_function, "read_api_key", read_api_key)
    for _ in range(3):
        assert invoke(authorizer, bearer(secret), monkeypatch)["usageIdentifierKey"] == (
            "bearer-key"
        )
        invoke(authorizer, {"x-api-key": "k"}, monkeypatch)
    assert reads == ["bearerkeyid"]


def test_a_failed_pool_lookup_is_retried_after_a_while(store: TokenStore) -> None:
    from shared.identity.authorizer import POOL_RETRY_SECONDS

    clock = [float(NOW)]
    attempts: list[float] = []

    def load() -> CognitoVerifier | None:
        attempts.append(clock[0])
        raise Unreachable("ssm")

    authorizer = Authorizer(store, None, clock=lambda: clock[0], load_verifier=load)
    jwt_like = bearer("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    assert not authorizer.decide(jwt_like, "192.0.2.1").allowed
    assert not authorizer.decide(jwt_like, "192.0.2.1").allowed
    assert len(attempts) == 1
    clock[0] += POOL_RETRY_SECONDS
    authorizer.decide(jwt_like, "192.0.2.1")
    assert len(attempts) == 2

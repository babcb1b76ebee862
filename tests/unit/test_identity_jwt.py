"""RS256 JWT verification (shared/identity/jwt.py) against tokens signed by `cryptography`."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.identity.jwt import (
    CognitoPool,
    CognitoVerifier,
    InvalidToken,
    Jwks,
    RsaPublicKey,
    rs256_verify,
)

POOL = CognitoPool("eu-west-1", "eu-west-1_Abc123", ("web-client", "cli-client"))
NOW = 1_800_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    return {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": b64(numbers.n.to_bytes(size, "big")),
        "e": b64(numbers.e.to_bytes(3, "big")),
    }


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(
    key: rsa.RSAPrivateKey, claims: dict[str, Any], header: dict[str, Any] | None = None
) -> str:
    head = b64(json.dumps(header or {"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "sub": "7d8f0c1e-1111-4222-8333-444455556666",
        "iss": POOL.issuer,
        "exp": NOW + 3600,
        "iat": NOW - 10,
        "token_use": "id",
        "aud": "web-client",
        "email": "ada@example.com",
        "cognito:groups": ["admin"],
    }
    base.update(overrides)
    return base


@pytest.fixture
def verifier(signing_key: rsa.RSAPrivateKey) -> CognitoVerifier:
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return {"keys": [jwk_of(signing_key, "k1")]}

    jwks = Jwks(POOL.jwks_url, fetch=fetch, clock=lambda: NOW)
    made = CognitoVerifier(POOL, jwks, clock=lambda: NOW)
    made.fetched = fetched  # type: ignore[attr-defined]
    return made


def test_a_good_id_token_gives_the_user(
    verifier: CognitoVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    user = verifier.verify(sign(signing_key, claims()))
    assert user.sub == "7d8f0c1e-1111-4222-8333-444455556666"
    assert user.email == "ada@example.com"
    assert user.groups == ("admin",)
    # The JWKS is fetched over HTTPS from the pool's issuer, once, then cached.
    verifier.verify(sign(signing_key, claims()))
    assert verifier.fetched == [  # type: ignore[attr-defined]
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123/.well-known/jwks.json"
    ]


def test_a_good_access_token_is_checked_against_client_id(
    verifier: CognitoVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    access = claims(token_use="access", client_id="cli-client")
    del access["aud"]
    assert verifier.verify(sign(signing_key, access)).sub == access["sub"]
    with pytest.raises(InvalidToken, match="wrong client"):
        verifier.verify(sign(signing_key, {**access, "client_id": "someone-else"}))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, "wrong issuer"),
        ({"token_use": "refresh"}, "wrong token_use"),
        ({"aud": "unknown-client"}, "wrong client"),
        ({"sub": ""}, "no subject"),
    ],
)
def test_claims_are_checked(
    verifier: CognitoVerifier,
    signing_key: rsa.RSAPrivateKey,
    change: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(sign(signing_key, claims(**change)))


def test_a_token_signed_by_another_key_is_refused(
    verifier: CognitoVerifier, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidToken, match="bad signature"):
        verifier.verify(sign(other_key, claims()))


def test_alg_none_and_hs256_are_refused(
    verifier: CognitoVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    good = sign(signing_key, claims())
    _, body, signature = good.split(".")
    none = b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(f"{none}.{body}.")
    hs = b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    with pytest.raises(InvalidToken, match="algorithm"):
        verifier.verify(f"{hs}.{body}.{signature}")


def test_a_tampered_payload_is_refused(
    verifier: CognitoVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    head, _, signature = sign(signing_key, claims()).split(".")
    forged = b64(json.dumps(claims(sub="someone-else", **{"cognito:groups": []})).encode())
    with pytest.raises(InvalidToken, match="bad signature"):
        verifier.verify(f"{head}.{forged}.{signature}")


def test_an_unknown_key_id_is_refused_and_refetched_at_most_once_a_minute(
    verifier: CognitoVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    header = {"alg": "RS256", "kid": "rotated"}
    for _ in range(3):
        with pytest.raises(InvalidToken, match="unknown key id"):
            verifier.verify(sign(signing_key, claims(), header))
    assert len(verifier.fetched) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.%%"])
def test_malformed_tokens_are_refused(verifier: CognitoVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_rs256_verify_matches_cryptography(signing_key: rsa.RSAPrivateKey) -> None:
    numbers = signing_key.public_key().public_numbers()
    key = RsaPublicKey(numbers.n, numbers.e)
    message = b"squrl"
    signature = signing_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert rs256_verify(key, message, signature)
    assert not rs256_verify(key, message + b"!", signature)
    assert not rs256_verify(key, message, signature[:-1])
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not rs256_verify(key, message, flipped)
    # A SHA-1 PKCS#1 signature of the same message is not an RS256 one.
    sha1 = signing_key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    assert not rs256_verify(key, message, sha1)


def test_weak_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidToken, match="weak"):
        RsaPublicKey.from_jwk(jwk_of(small, "small"))


def test_real_clock_default() -> None:
    verifier = CognitoVerifier(POOL, Jwks(POOL.jwks_url, fetch=lambda url: {"keys": []}))
    assert abs(verifier.clock() - time.time()) < 5

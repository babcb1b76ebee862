"""Cognito JWT verification: RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 3.3) against the
user pool's JWKS, with the standard library only.

The signature check is RFC 8017 8.2.2: `m = s^e mod n`, then the encoded message is compared,
in constant time, with the EMSA-PKCS1-v1_5 encoding of the SHA-256 digest that this module
builds itself (comparing whole encodings, never parsing the decrypted block, rules out the
Bleichenbacher-2006 family of forgeries against lax parsers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# DER of DigestInfo's AlgorithmIdentifier for SHA-256 (RFC 8017 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# Clock skew allowed on `exp` and `nbf`.
LEEWAY_SECONDS = 30
# JWKS freshness: keys are re-read after this long, and at most this often when an unknown key
# id shows up (Cognito rotates keys rarely; a flood of made-up `kid`s must not become a flood of
# HTTPS requests).
JWKS_MAX_AGE_SECONDS = 3600
JWKS_REFRESH_MIN_SECONDS = 60
JWKS_TIMEOUT_SECONDS = 2.0
# An RSA key shorter than this is refused.
MIN_MODULUS_BITS = 2048
TOKEN_USES = ("access", "id")
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class InvalidToken(Exception):
    """The JWT is not acceptable. The message is for tests and logs: it never holds the token."""


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not set(text) <= _B64URL:
        raise InvalidToken("bad base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise InvalidToken("bad base64url") from error


def _int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> RsaPublicKey:
        if jwk.get("kty") != "RSA":
            raise InvalidToken("not an RSA key")
        key = cls(_int(jwk["n"]), _int(jwk["e"]))
        if key.n.bit_length() < MIN_MODULUS_BITS or key.e < 3 or key.e % 2 == 0:
            raise InvalidToken("weak RSA key")
        return key


def rs256_verify(key: RsaPublicKey, signed: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 8.2.2)."""
    k = key.size
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(signed).digest()
    padding = k - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signed bytes, signature) of a compact JWS; InvalidToken if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidToken("malformed") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("malformed")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2


def fetch_json(url: str) -> dict[str, Any]:
    if not url.startswith("https://"):
        raise InvalidToken("JWKS must be fetched over HTTPS")
    with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_SECONDS) as response:
        return json.loads(response.read(1_000_000))


@dataclass
class Jwks:
    """The pool's signing keys by `kid`, fetched over HTTPS and cached."""

    url: str
    fetch: Callable[[str], dict[str, Any]] = fetch_json
    clock: Callable[[], float] = time.time
    _keys: dict[str, RsaPublicKey] = field(default_factory=dict)
    _fetched_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, kid: str) -> RsaPublicKey:
        with self._lock:
            now = self.clock()
            stale = now - self._fetched_at > JWKS_MAX_AGE_SECONDS
            unknown = kid not in self._keys and now - self._fetched_at > JWKS_REFRESH_MIN_SECONDS
            if stale or unknown:
                self._load(now)
            found = self._keys.get(kid)
        if found is None:
            raise InvalidToken("unknown key id")
        return found

    def _load(self, now: float) -> None:
        document = self.fetch(self.url)
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("use", "sig") == "sig" and jwk.get("alg", "RS256") == "RS256":
                try:
                    keys[str(jwk["kid"])] = RsaPublicKey.from_jwk(jwk)
                except (InvalidToken, KeyError, ValueError):
                    continue
        self._keys, self._fetched_at = keys, now


@dataclass(frozen=True)
class CognitoPool:
    """What a Cognito JWT must match: the pool (issuer) and the app clients it was issued to."""

    region: str
    pool_id: str
    client_ids: tuple[str, ...]

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"


@dataclass(frozen=True)
class VerifiedUser:
    sub: str
    email: str | None
    groups: tuple[str, ...]
    token_use: str


class CognitoVerifier:
    """Verifies a Cognito ID or access token: RS256 signature by a key of the pool's JWKS,
    `iss`, `exp` (and `nbf`), `token_use`, and the app client (`aud` for ID tokens,
    `client_id` for access tokens)."""

    def __init__(self, pool: CognitoPool, jwks: Jwks | None = None, clock=time.time):
        self.pool = pool
        self.jwks = jwks or Jwks(pool.jwks_url)
        self.clock = clock

    def verify(self, token: str) -> VerifiedUser:
        header, claims, signed, signature = split(token)
        if header.get("alg") != "RS256":
            raise InvalidToken("algorithm not allowed")
        key = self.jwks.key(str(header.get("kid", "")))
        if not rs256_verify(key, signed, signature):
            raise InvalidToken("bad signature")
        self._check_claims(claims)
        groups = claims.get("cognito:groups") or []
        email = claims.get("email")
        return VerifiedUser(
            sub=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
            token_use=claims["token_use"],
        )

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self.clock()
        if claims.get("iss") != self.pool.issuer:
            raise InvalidToken("wrong issuer")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + LEEWAY_SECONDS <= now:
            raise InvalidToken("expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf - LEEWAY_SECONDS > now:
            raise InvalidToken("not yet valid")
        use = claims.get("token_use")
        if use not in TOKEN_USES:
            raise InvalidToken("wrong token_use")
        client = claims.get("aud") if use == "id" else claims.get("client_id")
        if client not in self.pool.client_ids:
            raise InvalidToken("wrong client")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("no subject")

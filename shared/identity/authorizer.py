"""The authorizer's decision (docs/api.md section 8, docs/identity.md): who is calling, with
which scopes, from the request's headers alone.

- `Authorization: Bearer squrl_...`: a personal token -> its owner and its scopes;
- `Authorization: Bearer <JWT>`: a Cognito ID or access token -> the user (`sub`), every
  scope, the `cognito:groups`;
- `Authorization: Bearer <other>` or `x-api-key: <key>`: an API key -> every scope; API
  Gateway checks the key itself (it is returned as the usage identifier key), and the handlers
  read its id from the request context as the owner.

The same code runs in the Lambda REQUEST authorizer of every regional API and in the local
gateway. A refusal never says why: unknown, revoked and expired tokens look the same. Repeated
failures from one source address are refused without a lookup for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.contracts.auth import (
    CONTEXT_EMAIL,
    CONTEXT_GROUPS,
    CONTEXT_OWNER_ID,
    CONTEXT_PRINCIPAL,
    CONTEXT_SCOPES,
    CONTEXT_TOKEN_ID,
    SCOPES,
    TOKEN_PREFIX,
)
from shared.identity.jwt import CognitoVerifier, InvalidToken, looks_like_jwt
from shared.identity.tokens import TokenRecord, TokenStore, token_hash

logger = logging.getLogger(__name__)

# Failed authentications per source address: past MAX_FAILURES within FAILURE_WINDOW_SECONDS,
# personal tokens from that address are refused without a lookup, except tokens this instance
# has seen valid within KNOWN_GOOD_SECONDS (a guesser is stopped, a known caller behind the same
# address is not). JWTs (checked locally, no lookup) and API keys (checked by API Gateway) are
# not affected.
# every credential from that address is refused until the window has passed.
MAX_FAILURES = 100
KNOWN_GOOD_SECONDS = 600
MAX_KNOWN_GOOD = 10_000
FAILURE_WINDOW_SECONDS = 60
MAX_TRACKED_SOURCES = 10_000
# How long a looked-up token is trusted without reading it again (in AWS; 0 locally, so a
# revoked token is refused at once). The spec's bound on revocation is 300 s.
DEFAULT_TOKEN_CACHE_SECONDS = 60
MAX_TOKEN_CACHE_SECONDS = 300
# After the user pool could not be resolved (its SSM parameter unreachable), JWTs are refused and
# the pool is looked up again at most this often; tokens and API keys are not affected.
POOL_RETRY_SECONDS = 30

USER, TOKEN, API_KEY = "user", "token", "api_key"


def bearer(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` header."""
    scheme, _, credential = (authorization or "").partition(" ")
    return (credential.strip() or None) if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    principal: str = ""
    owner_id: str = ""
    scopes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    email: str | None = None
    token_id: str = ""
    # The API key API Gateway must check and throttle by (x-api-key callers).
    api_key: str | None = None

    def context(self) -> dict[str, str]:
        """`requestContext.authorizer` (strings only: API Gateway's rule)."""
        return {
            CONTEXT_OWNER_ID: self.owner_id,
            CONTEXT_SCOPES: " ".join(self.scopes),
            CONTEXT_GROUPS: " ".join(self.groups),
            CONTEXT_EMAIL: self.email or "",
            CONTEXT_PRINCIPAL: self.principal,
            CONTEXT_TOKEN_ID: self.token_id,
        }


REFUSED = Decision(allowed=False)


class FailureLimiter:
    """Failed authentications per source, in a sliding window, in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, source: str, now: float) -> deque[float]:
        times = self._failures.get(source)
        if times is None:
            return deque()
        while times and times[0] <= now - FAILURE_WINDOW_SECONDS:
            times.popleft()
        return times

    def blocked(self, source: str) -> bool:
        with self._lock:
            return len(self._recent(source, self.clock())) >= MAX_FAILURES

    def fail(self, source: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(source, now)
            times.append(now)
            self._failures[source] = times
            self._failures.move_to_end(source)
            while len(self._failures) > MAX_TRACKED_SOURCES:
                self._failures.popitem(last=False)


class TokenCache:
    """Looked-up tokens by hash, each trusted for `seconds` (0: never cached)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = min(max(0.0, seconds), MAX_TOKEN_CACHE_SECONDS)
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, TokenRecord]] = OrderedDict()

    def get(self, digest: str) -> TokenRecord | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] <= self.clock():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, record: TokenRecord) -> None:
        if self.seconds <= 0:
            return
        self._entries[record.digest] = (self.clock() + self.seconds, record)
        while len(self._entries) > 1000:
            self._entries.popitem(last=False)


class Authorizer:
    def __init__(
        self,
        tokens: TokenStore | None,
        verifier: CognitoVerifier | None,
        *,
        cache_seconds: float = DEFAULT_TOKEN_CACHE_SECONDS,
        clock: Callable[[], float] = time.time,
        limiter: FailureLimiter | None = None,
        load_verifier: Callable[[], CognitoVerifier | None] | None = None,
    ):
        """`load_verifier` resolves the user pool on the first JWT (not before: a caller with
        an API key or a personal token never depends on it); a failure refuses that JWT."""
        self.tokens = tokens
        self.verifier = verifier
        self._load_verifier = None if verifier is not None else load_verifier
        self._load_retry_at = 0.0
        self.clock = clock
        self.cache = TokenCache(cache_seconds)
        self.limiter = limiter or FailureLimiter()
        self._known_good: OrderedDict[str, float] = OrderedDict()

    def decide(self, headers: Mapping[str, str] | None, source: str = "") -> Decision:
        lowered = {k.lower(): v for k, v in (headers or {}).items() if isinstance(v, str)}
        credential = bearer(lowered.get("authorization"))
        if credential is not None and self._held_back(credential, source):
            logger.info("authorization refused: too many failures from this source")
            return REFUSED
        if credential is not None:
            decision = self._bearer(credential)
        elif lowered.get("x-api-key"):
            decision = self.api_key(lowered["x-api-key"])
        else:
            decision = REFUSED
        if not decision.allowed:
            self.limiter.fail(source)
        return decision

    def _held_back(self, credential: str, source: str) -> bool:
        """A token from a source past the failure limit that this instance has not seen valid."""
        if not credential.startswith(TOKEN_PREFIX) or not self.limiter.blocked(source):
            return False
        seen = self._known_good.get(token_hash(credential))
        return seen is None or seen + KNOWN_GOOD_SECONDS <= self.clock()

    def _remember_good(self, digest: str) -> None:
        self._known_good[digest] = self.clock()
        self._known_good.move_to_end(digest)
        while len(self._known_good) > MAX_KNOWN_GOOD:
            self._known_good.popitem(last=False)

    @staticmethod
    def api_key(value: str) -> Decision:
        # API Gateway checks the key (usage identifier) and puts its id in the request context.
        return Decision(True, API_KEY, "", SCOPES, api_key=value)

    def _bearer(self, credential: str) -> Decision:
        if credential.startswith(TOKEN_PREFIX):
            return self._token(credential)
        if looks_like_jwt(credential):
            return self._jwt(credential)
        return self.api_key(credential)

    def _token(self, credential: str) -> Decision:
        if self.tokens is None:
            return REFUSED
        now = self.clock()
        record = self.cache.get(token_hash(credential))
        if record is None:
            record = self.tokens.find(credential)
            if record is not None:
                self.cache.put(record)
        if record is None or not record.usable(now):
            return REFUSED
        self._remember_good(record.digest)
        try:
            self.tokens.touch(record, now)
        except Exception:
            # A missed `last_used_at` must never refuse a valid token.
            logger.warning("could not record a token's use", extra={"token_id": record.id})
        return Decision(
            True, TOKEN, record.owner, record.scopes, email=record.email, token_id=record.id
        )

    def _resolved_verifier(self) -> CognitoVerifier | None:
        if self._load_verifier is None:
            return self.verifier
        now = self.clock()
        if now < self._load_retry_at:
            return None
        try:
            self.verifier = self._load_verifier()
        except Exception:
            logger.warning("the user pool could not be resolved: JWTs are refused for now")
            self._load_retry_at = now + POOL_RETRY_SECONDS
            return None
        self._load_verifier = None
        return self.verifier

    def _jwt(self, credential: str) -> Decision:
        verifier = self._resolved_verifier()
        if verifier is None:
            return REFUSED
        try:
            user = verifier.verify(credential)
        except InvalidToken as error:
            logger.info("JWT refused: %s", error)
            return REFUSED
        except Exception:
            logger.warning("JWT could not be checked (JWKS unavailable?)")
            return REFUSED
        return Decision(True, USER, user.sub, SCOPES, user.groups, user.email)


def policy(decision: Decision, method_arn: str, bearer_usage_key: str | None) -> dict:
    """The Lambda REQUEST authorizer's answer to API Gateway. A Deny is API Gateway's 403
    (ACCESS_DENIED, given squrl's error body by the API's gateway responses)."""
    answer: dict = {
        "principalId": decision.owner_id or decision.principal or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if decision.allowed else "Deny",
                    "Resource": method_arn,
                }
            ],
        },
    }
    if decision.allowed:
        answer["context"] = decision.context()
        usage_key = decision.api_key or bearer_usage_key
        if usage_key:
            answer["usageIdentifierKey"] = usage_key
    return answer

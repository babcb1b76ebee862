"""An API Gateway look-alike: routes, API keys, throttling and the REST proxy event shape.

Each request becomes the event API Gateway's Lambda proxy integration sends, and each handler's
proxy response becomes the HTTP response, so the handlers run here exactly as in Lambda; each
function runs in its own execution environment, one invocation at a time (devserver/environments).
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devserver.environments import Environments
from devserver.lambda_shapes import Handler, LambdaContext, ProxyResult, error_result
from shared.contracts.auth import CONTEXT_OWNER_ID, CONTEXT_PRINCIPAL
from shared.contracts.http import CORS_ALLOW_HEADERS, METHOD_NOT_ALLOWED
from shared.contracts.routes import ROUTES, Route
from shared.identity.authorizer import bearer
from shared.redirect.answer import not_found

# Re-exported: tests build events and contexts from here.
__all__ = [
    "ROUTES",
    "Gateway",
    "Handler",
    "LambdaContext",
    "ProxyResult",
    "Route",
    "bearer",
    "error_result",
]

# A stage's throttle is well above one key's: redirects are public and far more frequent.
STAGE_RATE_FACTOR = 10

# API Gateway refuses bodies over 10 MB before any Lambda runs.
MAX_GATEWAY_BODY = 10 * 1024 * 1024


REFUSED = "A valid credential is required (Authorization: Bearer, or x-api-key)."


def route_pattern(route: Route) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.resource))
    return re.compile(f"^{regex}$")


def _specificity(resource: str) -> tuple[bool, ...]:
    return tuple(not part.startswith("{") for part in resource.strip("/").split("/"))


def resource_for(path: str) -> str | None:
    """The declared resource API Gateway routes `path` to: of those whose pattern matches, the
    one with literal segments where the others have parameters (`/urls/bulk` before
    `/urls/{code}`), whatever the method."""
    resources = {route.resource for route in ROUTES if route_pattern(route).match(path)}
    return max(resources, key=_specificity, default=None)


def allowed_methods(path: str) -> list[str]:
    """The methods declared on the resource `path` routes to; empty for an undeclared path."""
    resource = resource_for(path)
    return sorted({route.method for route in ROUTES if route.resource == resource})


def method_not_allowed(method: str, allowed: list[str]) -> ProxyResult:
    """What the API stack's ANY method (a MOCK integration) answers for an undeclared method on
    a declared path: 405 with `Allow` and the spec's error body (docs/api.md section 9)."""
    listed = allow_header(allowed)
    return error_result(
        405,
        METHOD_NOT_ALLOWED,
        f"{method} is not allowed here; allowed: {listed}.",
        {"Allow": listed},
    )


def allow_header(allowed: list[str]) -> str:
    return ", ".join(allowed)


class TokenBucket:
    """A usage plan's throttle: `rate` requests per second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 when a request may pass, else the seconds to wait for the next token."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


class Gateway:
    """API Gateway's part: routing, API keys, throttling, and the proxy event both ways.

    `api_key` may list several keys, comma-separated, as a usage plan holds several: each is
    its own owner (`api_key_id`, then `api_key_id-2`, `-3`...), so owner isolation can be tried
    locally.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_key_id: str = "local-key",
        rate: float = 100.0,
        burst: int = 200,
        region: str = "us-east-1",
        functions: Environments | None = None,
    ):
        keys = [key.strip() for key in api_key.split(",") if key.strip()]
        if not keys:
            raise ValueError("at least one API key is required")
        self.api_key = keys[0]
        self.api_key_id = api_key_id
        self.key_ids = {
            key: api_key_id if index == 0 else f"{api_key_id}-{index + 1}"
            for index, key in enumerate(keys)
        }
        self.region = region
        # Per key (usage plan) for keyed routes; the stage's own, higher limit for public ones.
        self._key_buckets = {key: TokenBucket(rate, burst) for key in self.key_ids}
        self.stage_throttle = TokenBucket(rate * STAGE_RATE_FACTOR, burst * STAGE_RATE_FACTOR)
        self.functions = functions or Environments()
        # Bearer callers (tokens, users) are throttled per owner, as API key callers per key.
        self._rate, self._burst = rate, burst
        self._owner_buckets: dict[str, TokenBucket] = {}

    def authorize(
        self, route: Route, path: str, headers: dict[str, str], source_ip: str
    ) -> tuple[dict[str, Any], str | None] | None:
        """What API Gateway does for an authenticated method: run the REQUEST authorizer
        (functions/authorizer, the same code as in AWS), then check the usage key it names.
        (the authorizer context, the API key used or None), or None when refused."""
        answer = self.functions.invoke(
            "authorizer",
            {
                "type": "REQUEST",
                "methodArn": f"arn:aws:execute-api:{self.region}:000000000000:local/local/"
                f"{route.method}{route.resource}",
                "resource": route.resource,
                "path": path,
                "httpMethod": route.method,
                "headers": dict(headers),
                "requestContext": {"identity": {"sourceIp": source_ip}},
            },
        )
        statements = answer.get("policyDocument", {}).get("Statement", [])
        if not statements or any(s.get("Effect") != "Allow" for s in statements):
            return None
        context = {k: str(v) for k, v in (answer.get("context") or {}).items()}
        context["principalId"] = str(answer.get("principalId", ""))
        if context.get(CONTEXT_PRINCIPAL) != "api_key":
            return context, None
        # API Gateway checks the usage identifier key against the stage's usage plans.
        usage_key = str(answer.get("usageIdentifierKey") or "")
        for key in self.key_ids:
            if hmac.compare_digest(key.encode(), usage_key.encode()):
                return context, key
        return None

    def _bucket_for(self, context: dict[str, str], api_key: str | None) -> TokenBucket:
        if api_key is not None:
            return self._key_buckets[api_key]
        owner = context.get(CONTEXT_OWNER_ID, "")
        bucket = self._owner_buckets.get(owner)
        if bucket is None:
            bucket = self._owner_buckets[owner] = TokenBucket(self._rate, self._burst)
        return bucket

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        resource = resource_for(path)
        for route in ROUTES:
            if route.resource == resource and route.method == method:
                found = route_pattern(route).match(path)
                assert found is not None
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> ProxyResult:
        parts = urlsplit(target)
        path = parts.path or "/"
        lowered = {k.lower(): v for k, v in headers.items()}
        matched = self.match(method, path)
        if matched is None and method == "OPTIONS":
            preflight = self.preflight(path, lowered.get("origin"))
            if preflight is not None:
                return preflight
        if matched is None and (allowed := allowed_methods(path)):
            return method_not_allowed(method, allowed)
        if matched is None:
            # What the deployed API answers for a path no resource has (the gateway's
            # MISSING_AUTHENTICATION_TOKEN, mapped to 404): the same page as an unknown code.
            missing = not_found(lowered.get("accept"))
            return ProxyResult(404, missing.headers, missing.body.encode())
        route, path_params = matched
        authorization: dict[str, str] | None = None
        api_key: str | None = None
        if route.api_key_required:
            authorized = self.authorize(route, path, headers, source_ip)
            if authorized is None:
                return error_result(403, "Forbidden", REFUSED)
            authorization, api_key = authorized
            # A usage plan throttles each key on its own; bearer callers, each owner.
            bucket: TokenBucket | None = self._bucket_for(authorization, api_key)
        elif route.resource == "/health":
            bucket = None  # readiness and failover probes must not be starved by traffic
        else:
            bucket = self.stage_throttle
        wait = bucket.take() if bucket is not None else 0.0
        if wait:
            retry = str(max(1, round(wait + 0.5)))
            return error_result(
                429, "RateLimitExceeded", "Too many requests.", {"Retry-After": retry}
            )
        event = self.event(
            route, path, path_params, parts.query, headers, body, source_ip, api_key, authorization
        )
        return self.result(self.functions.invoke(route.function, event))

    def preflight(self, path: str, origin: str | None) -> ProxyResult | None:
        """The CORS preflight answer the API stack's OPTIONS methods give for keyed routes (no
        key asked: browsers never send credentials on a preflight), or None where the deployed
        API has no OPTIONS method: no allowed origins, or a path no keyed route serves."""
        origins = [o.strip() for o in os.environ.get("SQURL_CORS_ORIGINS", "").split(",")]
        origins = [o for o in origins if o]
        resource = resource_for(path)
        methods = [
            route.method
            for route in ROUTES
            if route.api_key_required and route.resource == resource
        ]
        if not origins or not methods:
            return None
        headers = {
            "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
            "Access-Control-Allow-Headers": ",".join(CORS_ALLOW_HEADERS),
            "Vary": "Origin",
        }
        if origin in origins:
            headers["Access-Control-Allow-Origin"] = origin
        return ProxyResult(204, headers, b"")

    def origin(self, method: str, uri: str, headers: dict[str, str], source_ip: str) -> ProxyResult:
        """The regional API as CloudFront's origin for GET/HEAD /{code}: no body."""
        return self.handle(method, uri, headers, b"", source_ip)

    def event(
        self,
        route: Route,
        path: str,
        path_params: dict[str, str],
        query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        api_key: str | None = None,
        authorization: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The REST API (v1) Lambda proxy event for this request; `authorization` is the
        authorizer's context (None for public routes)."""
        pairs = parse_qsl(query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        try:
            text_body: str | None = body.decode("utf-8") if body else None
            is_base64 = False
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
        lowered = {k.lower(): v for k, v in headers.items()}
        key_id = self.key_ids.get(api_key or "") if route.api_key_required else None
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": route.method,
            "headers": dict(headers) or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": dict(pairs) or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": "000000000000",
                "apiId": "local",
                "resourceId": route.resource,
                "resourcePath": route.resource,
                "httpMethod": route.method,
                "path": f"/local{path}",
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "stage": "local",
                "domainName": lowered.get("host", "127.0.0.1"),
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": lowered.get("user-agent"),
                    "apiKey": api_key if key_id else None,
                    "apiKeyId": key_id,
                },
                "authorizer": authorization if route.api_key_required else None,
            },
            "body": text_body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def result(response: dict[str, Any]) -> ProxyResult:
        headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        raw = response.get("body") or ""
        body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode("utf-8")
        return ProxyResult(int(response["statusCode"]), headers, body)

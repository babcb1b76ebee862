"""An API Gateway look-alike: routes, API keys, throttling and the REST proxy event shape.

Each request becomes the event API Gateway's Lambda proxy integration sends, and each handler's
proxy response becomes the HTTP response, so the handlers run here exactly as in Lambda.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from shared.contracts.routes import ROUTES, Route
from shared.redirect.answer import not_found

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# A stage's throttle is well above one key's: redirects are public and far more frequent.
STAGE_RATE_FACTOR = 10

# API Gateway refuses bodies over 10 MB before any Lambda runs.
MAX_GATEWAY_BODY = 10 * 1024 * 1024


def route_pattern(route: Route) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.resource))
    return re.compile(f"^{regex}$")


@dataclass
class ProxyResult:
    status: int
    headers: dict[str, str]
    body: bytes


def error_result(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    body = json.dumps(
        {"error": code, "message": message, "details": None}, separators=(",", ":")
    ).encode()
    return ProxyResult(status, {"Content-Type": "application/json", **(headers or {})}, body)


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: float = 10.0):
        self.function_name = f"squrl-local-{function_name}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        )
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


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
        handlers: dict[str, Handler] | None = None,
        redirect_path: str | None = None,
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
        self._handlers: dict[str, Handler] = dict(handlers or {})
        # `edge` sends GET/HEAD /{code} through the edge handler as CloudFront would
        # (devserver/edge.py); /_squrl/edge/{code} takes that path in either mode.
        self.redirect_path = redirect_path or os.environ.get("SQURL_REDIRECT_PATH", "regional")
        if self.redirect_path not in ("regional", "edge"):
            raise ValueError(
                f"SQURL_REDIRECT_PATH must be regional or edge, not {self.redirect_path!r}"
            )
        self._edge: Any = None

    def handler(self, function: str) -> Handler:
        if function not in self._handlers:
            module = importlib.import_module(f"functions.{function}.handler")
            self._handlers[function] = module.handler
        return self._handlers[function]

    @property
    def edge(self) -> Any:
        """The local CloudFront, whose origin is this gateway's own regional route."""
        if self._edge is None:
            from devserver.edge import LocalCloudFront

            self._edge = LocalCloudFront(
                lambda method, path, headers, ip: self.handle(
                    method, path, headers, b"", ip, via_edge=False
                )
            )
        return self._edge

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in ROUTES:
            found = route_pattern(route).match(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def handle(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        *,
        via_edge: bool = True,
    ) -> ProxyResult:
        parts = urlsplit(target)
        path = parts.path or "/"
        if via_edge:
            from devserver.edge import edge_target

            edge_path = edge_target(method, path, self.redirect_path)
            if edge_path is not None:
                return self.edge.handle(method, edge_path, headers, source_ip)
        lowered = {k.lower(): v for k, v in headers.items()}
        matched = self.match(method, path)
        if matched is None:
            # What the deployed API answers for a path no resource has (the gateway's
            # MISSING_AUTHENTICATION_TOKEN, mapped to 404): the same page as an unknown code.
            missing = not_found(lowered.get("accept"))
            return ProxyResult(404, missing.headers, missing.body.encode())
        route, path_params = matched
        presented = lowered.get("x-api-key")
        if route.api_key_required:
            if presented not in self.key_ids:
                return error_result(
                    403, "Forbidden", "A valid API key is required (header x-api-key)."
                )
            # A usage plan throttles each key on its own.
            bucket = self._key_buckets[presented]
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
            route, path, path_params, parts.query, headers, body, source_ip, presented
        )
        response = self.handler(route.function)(event, LambdaContext(route.function))
        return self.result(response)

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
    ) -> dict[str, Any]:
        """The REST API (v1) Lambda proxy event for this request."""
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

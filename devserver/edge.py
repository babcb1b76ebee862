"""CloudFront in front of the local gateway: the edge path of GET/HEAD /{code}.

Two ways in (docs/edge.md):
- `/_squrl/edge/{code}` always runs the edge path, whatever the mode;
- `SQURL_REDIRECT_PATH=edge` sends plain `/{code}` through it too (the default, `regional`, keeps
  API Gateway's path), so the same end-to-end tests can exercise either.

The edge path does what the distribution does: the viewer-request function reduces Accept to
`x-squrl-format: html|json` (shared.edge_redirect.response_format, the Python twin of
functions/edge_format/edge_format.js); on a miss, an origin-request event for the edge handler
(functions/edge_redirect) with only the headers CloudFront forwards (Accept, from the origin
request policy, and x-squrl-format, from the cache key); a generated response is the answer; a
request handed back goes to the origin (the regional API through the local gateway) with the
headers the function left on it.

CloudFront's cache is emulated only when asked for (`SQURL_EDGE_CACHE=1`, or `cache=True`): keyed
on path + format like the cache policy, lifetimes from s-maxage/max-age less Age, capped at the
policy's maximum TTL, nothing kept that is private/no-store/no-cache or has no lifetime. A hit
returns the stored headers as they were (Cache-Control unchanged) with `Age` set to the stored
age plus the time in the cache, as CloudFront does. Off by default: end-to-end tests change links
and expect the next request to see it, which a cache holding a 301 for an hour would hide.
"""

from __future__ import annotations

import base64
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from devserver.lambda_shapes import Invoke, ProxyResult
from shared.contracts.http import FORMAT_HEADER, MAX_PERMANENT_AGE
from shared.redirect.edge import response_format

EDGE_PREFIX = "/_squrl/edge"
MODES = ("regional", "edge")
# What reaches the function and the origin: Accept (origin request policy) and the cache key's
# x-squrl-format.
FORWARDED_HEADERS = ("accept", FORMAT_HEADER)
CACHE_ENV = "SQURL_EDGE_CACHE"
MAX_TTL_SECONDS = MAX_PERMANENT_AGE  # the cache policy's maximum TTL (stacks/edge_stack.py)
_NOT_STORED = re.compile(r"\b(private|no-store|no-cache)\b", re.IGNORECASE)

Origin = Callable[[str, str, dict[str, str], str], ProxyResult]
# What CloudFront's real-time logs are told of each answer: method, uri, status, viewer headers.
AnswerLog = Callable[[str, str, int, Mapping[str, str]], None]
Api = Callable[[str, str, dict[str, str], bytes, str], ProxyResult]
# Told of a code whose link a PATCH or DELETE just changed.
LinkChanged = Callable[[str], None]
# `PATCH|DELETE /urls/{code}`: the API routes that change what a code answers.
_LINK_CHANGE = re.compile(r"^/urls/([^/]+)$")


def edge_target(method: str, path: str, mode: str) -> str | None:
    """The `/{code}` path the edge should answer for this request, or None for the gateway."""
    if method not in ("GET", "HEAD"):
        return None
    if path.startswith(EDGE_PREFIX + "/"):
        return path[len(EDGE_PREFIX) :]
    if mode == "edge" and path != "/health" and path.count("/") == 1 and len(path) > 1:
        return path
    return None


def viewer_request(headers: dict[str, str]) -> dict[str, str]:
    """The viewer-request function: x-squrl-format from Accept, whatever the viewer sent."""
    accept = next((v for k, v in headers.items() if k.lower() == "accept"), None)
    result = {k: v for k, v in headers.items() if k.lower() != FORMAT_HEADER}
    result[FORMAT_HEADER] = response_format(accept)
    return result


def lifetime(headers: dict[str, str]) -> int:
    """Seconds CloudFront would keep this response (0: not stored), before subtracting Age."""
    lowered = {k.lower(): v for k, v in headers.items()}
    cache_control = lowered.get("cache-control", "")
    if _NOT_STORED.search(cache_control):
        return 0
    directives = dict(re.findall(r"\b(s-maxage|max-age)=(\d+)", cache_control.lower()))
    seconds = directives.get("s-maxage", directives.get("max-age"))
    return min(int(seconds), MAX_TTL_SECONDS) if seconds is not None else 0


def age_of(headers: dict[str, str]) -> int:
    value = next((v for k, v in headers.items() if k.lower() == "age"), "0")
    return int(value) if value.strip().isdigit() else 0


@dataclass(frozen=True)
class Stored:
    response: ProxyResult
    stored_at: float
    age: int  # the response's Age when stored
    expires_at: float


def cf_headers(headers: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {k.lower(): [{"key": k, "value": v}] for k, v in headers.items()}


def _config(event_type: str) -> dict[str, str]:
    return {
        "distributionDomainName": "local.cloudfront.net",
        "distributionId": "ELOCAL",
        "eventType": event_type,
        "requestId": uuid.uuid4().hex,
    }


def origin_request_event(
    method: str, uri: str, headers: dict[str, str], client_ip: str, origin_host: str
) -> dict[str, Any]:
    forwarded = {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
    forwarded["Host"] = origin_host
    request = {
        "clientIp": client_ip,
        "headers": cf_headers(forwarded),
        "method": method,
        "origin": {
            "custom": {
                "customHeaders": {
                    "x-squrl-origin-role": [{"key": "x-squrl-origin-role", "value": "primary"}]
                },
                "domainName": origin_host,
                "keepaliveTimeout": 5,
                "path": "",
                "port": 443,
                "protocol": "https",
                "readTimeout": 10,
                "sslProtocols": ["TLSv1.2"],
            }
        },
        "querystring": "",
        "uri": uri,
    }
    return {"Records": [{"cf": {"config": _config("origin-request"), "request": request}}]}


def to_proxy_result(response: dict[str, Any], body: bytes | None = None) -> ProxyResult:
    headers = {values[0]["key"]: values[0]["value"] for values in response["headers"].values()}
    if body is None:
        raw = response.get("body") or ""
        body = base64.b64decode(raw) if response.get("bodyEncoding") == "base64" else raw.encode()
    return ProxyResult(int(response["status"]), headers, body)


class LocalCloudFront:
    """The distribution: viewer-request function, optional cache, the edge function, the origin.

    `function` invokes the edge handler in its execution environment (devserver/environments);
    `on_answer` is told of every answer, as the real-time logs are.
    """

    def __init__(
        self,
        origin: Origin,
        function: Invoke,
        origin_host: str = "",
        *,
        on_answer: AnswerLog | None = None,
        cache: bool | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._origin = origin
        self._function = function
        self._on_answer = on_answer
        self.origin_host = origin_host or "local.execute-api.localhost"
        if cache is None:
            cache = os.environ.get(CACHE_ENV, "").lower() in ("1", "true", "yes")
        self.cache_enabled = cache
        self.clock = clock
        self.cache: dict[tuple[str, str], Stored] = {}

    def handle(self, method: str, uri: str, headers: dict[str, str], client_ip: str) -> ProxyResult:
        headers = viewer_request(headers)
        answer = self._cached(method, uri, headers, client_ip)
        # CloudFront's real-time logs see every answer; the click consumer reads them.
        if self._on_answer is not None:
            self._on_answer(method, uri, answer.status, headers)
        return answer

    def _cached(
        self, method: str, uri: str, headers: dict[str, str], client_ip: str
    ) -> ProxyResult:
        if not self.cache_enabled:
            return self._answer(method, uri, headers, client_ip)
        key = (uri, headers[FORMAT_HEADER])
        now = self.clock()
        stored = self.cache.get(key)
        if stored is not None and now < stored.expires_at:
            hit = stored.response
            hit_headers = {k: v for k, v in hit.headers.items() if k.lower() != "age"}
            hit_headers["Age"] = str(stored.age + math.floor(now - stored.stored_at))
            return ProxyResult(hit.status, hit_headers, b"" if method == "HEAD" else hit.body)
        answer = self._answer(method, uri, headers, client_ip)
        # A HEAD answer has no body to serve a later GET with; CloudFront caches GET answers.
        if method == "GET":
            age = age_of(answer.headers)
            ttl = lifetime(answer.headers) - age
            if ttl > 0:
                self.cache[key] = Stored(answer, now, age, now + ttl)
            else:
                self.cache.pop(key, None)
        return answer

    def purge(self, code: str) -> int:
        """Drop every cached answer for `/{code}` (each format), as an invalidation of that
        path does; returns how many were dropped."""
        path = f"/{code}"
        stale = [key for key in self.cache if urlsplit(key[0]).path == path]
        for key in stale:
            self.cache.pop(key, None)
        return len(stale)

    def _answer(
        self, method: str, uri: str, headers: dict[str, str], client_ip: str
    ) -> ProxyResult:
        event = origin_request_event(method, uri, headers, client_ip, self.origin_host)
        result = self._function(event)
        if "status" in result:
            return to_proxy_result(result)
        # The origin gets the request as the function left it (Accept made canonical).
        forwarded = {
            values[0]["key"]: values[0]["value"]
            for name, values in result["headers"].items()
            if name in FORWARDED_HEADERS and values
        }
        # CloudFront marks every origin request; the regional recorder leaves those clicks to
        # the real-time logs, so a fallback redirect is counted once.
        forwarded["X-Amz-Cf-Id"] = uuid.uuid4().hex
        return self._origin(method, result["uri"], forwarded, client_ip)


class Front:
    """The one local host, split as the short domain and the API's hostname split requests in
    AWS: `/_squrl/edge/{code}` always, and `/{code}` in `edge` mode, go through CloudFront;
    everything else goes straight to the API.

    After the API answers 2xx to `PATCH` or `DELETE /urls/{code}`, `on_link_change` is told the
    code before the answer is returned, so the next request already sees the change: locally
    there is no stream and no invalidation delay (docs/edge.md, "Freshness after a change").
    """

    def __init__(
        self,
        api: Api,
        cloudfront: LocalCloudFront,
        mode: str = "regional",
        *,
        on_link_change: LinkChanged | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"SQURL_REDIRECT_PATH must be regional or edge, not {mode!r}")
        self.api, self.cloudfront, self.mode = api, cloudfront, mode
        self.on_link_change = on_link_change

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> ProxyResult:
        edge_path = edge_target(method, urlsplit(target).path or "/", self.mode)
        if edge_path is not None:
            return self.cloudfront.handle(method, edge_path, headers, source_ip)
        answer = self.api(method, target, headers, body, source_ip)
        if method in ("PATCH", "DELETE") and 200 <= answer.status < 300:
            changed = _LINK_CHANGE.match(urlsplit(target).path)
            if changed is not None:
                code = unquote(changed.group(1))
                self.cloudfront.purge(code)
                if self.on_link_change is not None:
                    self.on_link_change(code)
        return answer

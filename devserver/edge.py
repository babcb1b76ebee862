"""CloudFront in front of the local gateway: the edge path of GET/HEAD /{code}.

Two ways in (docs/edge.md):
- `/_squrl/edge/{code}` always runs the edge path, whatever the mode;
- `SQURL_REDIRECT_PATH=edge` sends plain `/{code}` through it too (the default, `regional`, keeps
  API Gateway's path), so the same end-to-end tests can exercise either.

The edge path does what the distribution does on a cache miss: an origin-request event for the
edge handler (functions/edge_redirect), with only the headers the origin request policy
forwards; a generated response is the answer; a request handed back goes to the origin (the
regional API through the local gateway) and its response passes the origin-response trigger.
CloudFront's own cache is not emulated: every request is a miss, which is what tests need.
"""

from __future__ import annotations

import base64
import importlib
import uuid
from collections.abc import Callable
from typing import Any

from devserver.click_stream import record_edge_request
from devserver.gateway import LambdaContext, ProxyResult

EDGE_PREFIX = "/_squrl/edge"
MODES = ("regional", "edge")
# The origin request policy forwards Accept (for the 404/410 negotiation) and nothing else.
FORWARDED_HEADERS = ("accept",)

Origin = Callable[[str, str, dict[str, str], str], ProxyResult]
EdgeHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def edge_target(method: str, path: str, mode: str) -> str | None:
    """The `/{code}` path the edge should answer for this request, or None for the gateway."""
    if method not in ("GET", "HEAD"):
        return None
    if path.startswith(EDGE_PREFIX + "/"):
        return path[len(EDGE_PREFIX) :]
    if mode == "edge" and path != "/health" and path.count("/") == 1 and len(path) > 1:
        return path
    return None


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
    def __init__(self, origin: Origin, handler: EdgeHandler | None = None, origin_host: str = ""):
        self._origin = origin
        self._handler = handler
        self.origin_host = origin_host or "local.execute-api.localhost"

    @property
    def handler(self) -> EdgeHandler:
        if self._handler is None:
            self._handler = importlib.import_module("functions.edge_redirect.handler").handler
        return self._handler

    def handle(self, method: str, uri: str, headers: dict[str, str], client_ip: str) -> ProxyResult:
        answer = self._answer(method, uri, headers, client_ip)
        # CloudFront's real-time logs see every answer; the click consumer reads them.
        record_edge_request(method, uri, answer.status, headers)
        return answer

    def _answer(
        self, method: str, uri: str, headers: dict[str, str], client_ip: str
    ) -> ProxyResult:
        event = origin_request_event(method, uri, headers, client_ip, self.origin_host)
        result = self.handler(event, LambdaContext("edge_redirect", timeout_seconds=5))
        if "status" in result:
            return to_proxy_result(result)
        forwarded = {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
        # CloudFront marks every origin request; the regional recorder leaves those clicks to
        # the real-time logs, so a fallback redirect is counted once.
        forwarded["X-Amz-Cf-Id"] = uuid.uuid4().hex
        answered = self._origin(method, result["uri"], forwarded, client_ip)
        response_event = {
            "Records": [
                {
                    "cf": {
                        "config": _config("origin-response"),
                        "request": result,
                        "response": {
                            "status": str(answered.status),
                            "statusDescription": "",
                            "headers": cf_headers(answered.headers),
                        },
                    }
                }
            ]
        }
        protected = self.handler(response_event, LambdaContext("edge_redirect", timeout_seconds=5))
        return to_proxy_result(protected, body=answered.body)

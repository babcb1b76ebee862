"""The canary's script: create a link through the API, then follow it at the public URL.

Deployed inline into a CloudWatch Synthetics syn-python-selenium canary (index.handler). It uses
only the standard library and boto3, both present in that runtime, so tests can run it too.

Environment:
  API_URL             the regional API stage URL (no trailing slash)
  API_KEY_PARAMETER   SSM SecureString parameter holding an API key (docs/operations.md)
  SHORT_BASE_URL      public base of short links (CloudFront); empty: use the API's short_url
  TARGET_URL          the URL the canary shortens; a per-run query string keeps each run's
                      link new, so every run exercises the write path and an uncached redirect
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from typing import Any

try:
    from aws_synthetics.common import synthetics_logger as logger  # type: ignore[import-not-found]
except ImportError:  # outside the Synthetics runtime (tests)
    logger = logging.getLogger("squrl.canary")

TIMEOUT_SECONDS = 10
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})


class CanaryFailure(Exception):
    pass


class _KeepRedirect(urllib.request.HTTPRedirectHandler):
    """The redirect itself is what the canary checks, so it is never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_KeepRedirect)


def _send(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def api_key() -> str:
    import boto3

    parameter = os.environ["API_KEY_PARAMETER"]
    answer = boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
    return answer["Parameter"]["Value"]


def run(api_url: str, key: str, short_base_url: str, target_url: str) -> dict[str, Any]:
    """One check; raises CanaryFailure with what went wrong, returns what it saw."""
    original = f"{target_url}?run={int(time.time() * 1000)}"
    create = urllib.request.Request(
        f"{api_url}/urls",
        data=json.dumps({"original_url": original, "ttl_hours": 1}).encode(),
        method="POST",
        headers={"x-api-key": key, "Content-Type": "application/json"},
    )
    status, _, body = _send(create)
    if status != 201:
        raise CanaryFailure(f"POST /urls answered {status}: {body[:300]!r}")
    link = json.loads(body)
    code = link["short_code"]
    short_url = f"{short_base_url}/{code}" if short_base_url else link["short_url"]

    status, headers, _ = _send(urllib.request.Request(short_url, method="GET"))
    location = {k.lower(): v for k, v in headers.items()}.get("location")
    if status not in REDIRECT_STATUSES or location != link["original_url"]:
        raise CanaryFailure(f"GET {short_url} answered {status} to {location!r}")
    logger.info(f"created {code} and followed {short_url} ({status})")
    return {"code": code, "short_url": short_url, "status": status}


def handler(event: Any, context: Any) -> dict[str, Any]:
    return run(
        os.environ["API_URL"].rstrip("/"),
        api_key(),
        os.environ.get("SHORT_BASE_URL", "").rstrip("/"),
        os.environ["TARGET_URL"],
    )

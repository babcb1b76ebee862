"""The shapes Lambda and API Gateway hand around: a handler, its context, a proxy result.

Every other devserver module may import this one; it imports none of them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# A function as its callers see it: an event in, its result out (the context is Lambda's part).
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class ProxyResult:
    status: int
    headers: dict[str, str]
    body: bytes


def error_result(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> ProxyResult:
    """An answer in the spec's error shape (SPEC 2), as the gateway's own responses give it."""
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

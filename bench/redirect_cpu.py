"""CPU per warm regional redirect, the table read included: the handler with its standard-library
client building, signing and parsing a real GetItem exchange over a fake transport that answers at
once, and clicks on (written to a pipe another process drains, as Lambda's runtime drains stdout).

Next to it, the same GetItem through boto3 (serialize, sign, parse) answered by the same bytes from
a `before-send` hook, and the lean client's get_item alone. Runs alternate in blocks so all see the
same machine state; compare within one run.

    .venv/bin/python -m bench redirect_cpu
"""

from __future__ import annotations

import json
import os
import statistics
import time
import zlib
from collections.abc import Callable
from typing import Any

from bench.click_producer import HEADERS, stdout_to_drained_pipe

BLOCKS = 20
PER_BLOCK = 1000
WARM_UP = 500
TABLE = "squrl-urls-bench"
CODE = "abc123"
BODY = json.dumps(
    {
        "Item": {
            "original_url": {"S": "https://example.com/a/long/enough/path?with=query"},
            "status": {"S": "active"},
            "redirect_type": {"N": "302"},
        }
    }
).encode()
CRC32 = str(zlib.crc32(BODY))
ENVIRON = {
    "AWS_ACCESS_KEY_ID": "ASIABENCHEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench/secret+key",
    # Lambda's credentials are temporary: every request carries the session token.
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjE" * 40,
}


class _Response:
    status = 200

    def read(self) -> bytes:
        return BODY

    def getheader(self, name: str) -> str | None:
        return CRC32 if name.lower() == "x-amz-crc32" else None


class _KeptAliveConnection:
    """Takes the request and answers at once; never dropped."""

    sock = object()

    def request(self, method: str, url: str, body: bytes, headers: Any) -> None:
        self.sent = len(body) + sum(len(k) + len(v) for k, v in headers.items())

    def getresponse(self) -> _Response:
        return _Response()

    def close(self) -> None:
        pass


def lean_client() -> Any:
    """Reading its credentials from os.environ on every request, as in Lambda."""
    from shared.redirect.dynamodb import GetItemClient

    return GetItemClient("us-east-1", connection_factory=_KeptAliveConnection)


def boto3_client() -> Any:
    import boto3
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **kwargs: Any) -> Any:
            yield BODY

    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id=ENVIRON["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ENVIRON["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=ENVIRON["AWS_SESSION_TOKEN"],
    )
    client.meta.events.register(
        "before-send.dynamodb.GetItem",
        lambda request, **kwargs: AWSResponse(
            request.url, 200, {"x-amz-crc32": CRC32, "content-length": str(len(BODY))}, Raw()
        ),
    )
    return client


def _summary(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50_us": round(ordered[len(ordered) // 2] / 1000, 2),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1] / 1000, 2),
        "mean_us": round(statistics.fmean(ordered) / 1000, 2),
    }


def _time(call: Callable[[], Any], n: int, into: list[int]) -> None:
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        call()
        into.append(clock() - start)


def run() -> dict[str, Any]:
    from functions.redirect import handler as redirect
    from shared.clicks.producer import recorder
    from shared.redirect.answer import fetch_link
    from shared.settings import settings

    changed = {**ENVIRON, "SQURL_CLICK_STREAM": "squrl-bench-clicks"}
    previous = {name: os.environ.get(name) for name in changed}
    os.environ.update(changed)
    settings.cache_clear()
    record_click = recorder()
    assert record_click is not None, "the click producer is off"
    lean, boto = lean_client(), boto3_client()
    original = (redirect.redirector.client, redirect.record_click)
    redirect.redirector.client, redirect.record_click = lean, record_click
    event = {
        "resource": "/{code}",
        "path": f"/{CODE}",
        "httpMethod": "GET",
        "headers": HEADERS,
        "pathParameters": {"code": CODE},
    }
    calls: dict[str, Callable[[], Any]] = {
        "handler, lean client, clicks on": lambda: redirect.handler(event, None),
        "lean get_item alone": lambda: fetch_link(lean, TABLE, CODE),
        "boto3 get_item alone": lambda: fetch_link(boto, TABLE, CODE),
    }
    samples: dict[str, list[int]] = {name: [] for name in calls}
    try:
        with stdout_to_drained_pipe() as received:
            response = redirect.handler(event, None)
            assert response["statusCode"] == 302, response
            for call in calls.values():
                _time(call, WARM_UP, [])
            for _ in range(BLOCKS):
                for name, call in calls.items():
                    _time(call, PER_BLOCK, samples[name])
    finally:
        # Other benchmarks in the same process see the environment they started with.
        redirect.redirector.client, redirect.record_click = original
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
        settings.cache_clear()
    results: dict[str, Any] = {name: _summary(values) for name, values in samples.items()}
    handler = results["handler, lean client, clicks on"]
    results["iterations_each"] = BLOCKS * PER_BLOCK
    results["click_bytes_written"] = received[0]
    results["handler p50 target_us"] = 60
    results["handler p50 within target"] = handler["p50_us"] <= 60
    results["boto3 / lean get_item p50"] = round(
        results["boto3 get_item alone"]["p50_us"] / results["lean get_item alone"]["p50_us"], 1
    )
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

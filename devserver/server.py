"""`make dev`: the whole API on http://127.0.0.1:8080 against an embedded DynamoDB."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devserver.click_stream import LocalClickStream
from devserver.edge import Front, LocalCloudFront
from devserver.emulator import Emulator
from devserver.environments import Environments
from devserver.gateway import MAX_GATEWAY_BODY, Gateway
from devserver.lambda_shapes import ProxyResult, error_result

LOCAL_ENV = "local"
REGION = "us-east-1"


def configure_environment(emulator_endpoint: str, port: int, host: str) -> None:
    """The environment the handlers read in Lambda, pointed at the emulator."""
    defaults = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "SQURL_ENV": LOCAL_ENV,
        "SQURL_TABLE_NAME": f"squrl-urls-{LOCAL_ENV}",
        "SQURL_HOME_REGION": REGION,
        "SQURL_SHORT_BASE_URL": f"http://{host}:{port}",
        "SQURL_CODE_LENGTH": "8",
        "POWERTOOLS_SERVICE_NAME": "squrl",
        "POWERTOOLS_METRICS_NAMESPACE": "Squrl",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "LOG_LEVEL": "WARNING",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Always the emulator: a shell's real AWS settings must never reach a real table.
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = emulator_endpoint
    os.environ.pop("AWS_PROFILE", None)


class RequestHandler(BaseHTTPRequestHandler):
    server_version = "squrl-local"
    protocol_version = "HTTP/1.1"
    front: Front

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BadBody as bad:
            self._send(error_result(bad.status, bad.code, bad.message))
            self.close_connection = True
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        try:
            result = self.front.handle(
                self.command, self.path, headers, body, self.client_address[0]
            )
        except Exception:  # the gateway's own 502, as when a Lambda crashes
            self.log_error("handler failed:\n%s", _traceback())
            result = error_result(500, "InternalServerError", "The function failed.")
        self._send(result)

    def _read_body(self) -> bytes:
        """The request body, by Content-Length or chunked, as API Gateway accepts either."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(64).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _BadBody(400, "ValidationError", "Malformed chunked body.") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_GATEWAY_BODY:
                    raise _BadBody(413, "PayloadTooLarge", "The request body is too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.strip().isdigit():
            raise _BadBody(400, "ValidationError", "Content-Length is not a number.")
        length = int(raw_length)
        if length > MAX_GATEWAY_BODY:
            raise _BadBody(413, "PayloadTooLarge", "The request body is too large.")
        return self.rfile.read(length) if length else b""

    def handle(self) -> None:
        # A client that hangs up mid-request is its own business, not a traceback on the console.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _send(self, result: ProxyResult, *, announce_close: bool = False) -> None:
        self.send_response(result.status)
        for key, value in result.headers.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        # A HEAD answer may state a length only if it is the GET body's (RFC 9110, 8.6); the
        # redirect handler leaves the body out for HEAD, so then no length is sent at all.
        if self.command != "HEAD" or result.body:
            self.send_header("Content-Length", str(len(result.body)))
        if announce_close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(result.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (`FOO /abc`) goes to the gateway too, which answers it as API Gateway
        # answers a method no route has, instead of http.server's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the HTTP layer refuses before any route (a broken request line, a URI or headers
        too long, an unknown HTTP version), in the spec's error shape rather than HTML: 4xx as
        `ValidationError`, 5xx as `InternalServerError`, as the API's default gateway responses."""
        if self.request_version == "HTTP/0.9":
            # Too broken to name a version: still answer with a status line and headers.
            self.request_version = "HTTP/1.1"
        if code == 413:
            name = "PayloadTooLarge"
        else:
            name = "ValidationError" if code < 500 else "InternalServerError"
        self.close_connection = True
        self._send(
            error_result(code, name, message or HTTPStatus(code).phrase), announce_close=True
        )

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("SQURL_ACCESS_LOG", "1") != "0":
            sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")


class _BadBody(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _traceback() -> str:
    import traceback

    return traceback.format_exc()


class LocalHttpServer(ThreadingHTTPServer):
    # The default listen backlog of 5 resets bursts of concurrent clients before a thread can
    # accept them; API Gateway takes thousands.
    request_queue_size = 256
    daemon_threads = True
    # Stopping must not wait for a client that never finishes its request.
    block_on_close = False


class LocalSqurl:
    """The emulator, the table and the HTTP front, started and stopped together."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, api_key: str | None = None):
        self.host = host
        # SQURL_API_KEY may list several keys (comma-separated), each its own owner.
        self.api_keys = [k.strip() for k in (api_key or "").split(",") if k.strip()] or [
            secrets.token_urlsafe(24)
        ]
        self.api_key = self.api_keys[0]
        self.emulator = Emulator(host).start()
        self.http = LocalHttpServer((host, port), RequestHandler)
        self.port = self.http.server_address[1]
        configure_environment(self.emulator.endpoint, self.port, host)
        self.emulator.create_table(os.environ["SQURL_TABLE_NAME"], REGION)
        self.functions = Environments()
        # Before the redirect is imported: its click recorder is configured at import.
        self.clicks = LocalClickStream(
            self.emulator.endpoint, REGION, self.functions.invoker("click_consumer")
        )
        # Generous by default, so scripts against a laptop are not throttled by surprise.
        rate = float(os.environ.get("SQURL_RATE_LIMIT", "500"))
        burst = int(os.environ.get("SQURL_BURST_LIMIT", str(int(rate * 2))))
        gateway = Gateway(
            ",".join(self.api_keys), rate=rate, burst=burst, region=REGION, functions=self.functions
        )
        cloudfront = LocalCloudFront(
            gateway.origin,
            self.functions.invoker("edge_redirect", timeout_seconds=5),
            on_answer=self.clicks.record_edge_request,
        )
        front = Front(gateway.handle, cloudfront, os.environ.get("SQURL_REDIRECT_PATH", "regional"))
        # Lambda's init for every function now, so no first request is slow.
        self.functions.load("redirect", "create_url", "get_url", "click_consumer")
        self.http.RequestHandlerClass = type(
            "BoundRequestHandler", (RequestHandler,), {"front": front}
        )
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalSqurl:
        self.clicks.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.clicks.stop()
        self.emulator.stop()


def banner(local: LocalSqurl) -> str:
    others = "".join(f"\n  another owner's key: {key}" for key in local.api_keys[1:])
    return f"""
squrl is running at {local.url}  (DynamoDB emulator at {local.emulator.endpoint})

  API key: {local.api_key}{others}

  curl -s -X POST {local.url}/urls \\
       -H 'x-api-key: {local.api_key}' -H 'Content-Type: application/json' \\
       -d '{{"original_url": "https://example.com/hello"}}'

Ctrl-C stops everything.
"""


def main() -> None:
    start = time.monotonic()
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        stopping.set()

    # Before anything listens: a signal sent as soon as /health answers must not be lost (a
    # shell starts background jobs with SIGINT ignored until a handler is set).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    port = int(os.environ.get("SQURL_PORT", "8080"))
    local = LocalSqurl(port=port, api_key=os.environ.get("SQURL_API_KEY") or None).start()
    print(banner(local), flush=True)
    print(f"ready in {time.monotonic() - start:.1f}s", flush=True)
    # A timed wait: the kernel may deliver the signal to a request thread, and Python runs
    # handlers only when the main thread wakes; an untimed wait could sleep through it.
    while not stopping.wait(timeout=0.2):
        pass
    local.stop()
    print("squrl stopped.", flush=True)


if __name__ == "__main__":
    main()

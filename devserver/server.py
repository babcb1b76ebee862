"""`make dev`: the whole API on http://127.0.0.1:8080 against an embedded DynamoDB."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from devserver.click_stream import LocalClickStream
from devserver.docs_page import DOCS_PATH, docs_page
from devserver.edge import Front, LocalCloudFront
from devserver.emulator import Emulator, data_dir_from_environment, fresh_from_environment
from devserver.environments import Environments
from devserver.gateway import MAX_GATEWAY_BODY, Gateway
from devserver.http_server import HttpServer
from devserver.imports import LocalImports
from devserver.lambda_shapes import ProxyResult
from devserver.store import StoreError
from devserver.web import WebApp
from shared.imports.uploads import LOCAL_UPLOADS_PATH

LOCAL_ENV = "local"
REGION = "us-east-1"
# How long a client may take (SQURL_CLIENT_TIMEOUT): to send the next request on a keep-alive
# connection before it is closed, to send a request head or body before a 408.
CLIENT_TIMEOUT_SECONDS = 5.0
# Stopping, step by step, within STOP_SECONDS in all (the process exits 3 s after the signal at
# the latest): requests in flight, then queued clicks, then the store, which gets what is left.
STOP_SECONDS = 2.8
GRACE_SECONDS = 2.0
CLICK_FLUSH_SECONDS = 0.4
IMPORTS_STOP_SECONDS = 0.3


# The local user (docs/identity.md, "Locally"): its token is made at every start and printed.
LOCAL_USER_ID = "local-user"
LOCAL_USER_EMAIL = "dev@localhost"
LOCAL_TOKEN_NAME = "make dev"


def ready_token(endpoint: str, table: str) -> str:
    """A fresh all-scopes token of the local user; the previous start's is revoked."""
    import boto3

    from shared.contracts.auth import SCOPES
    from shared.identity.tokens import MAX_EXPIRES_IN_DAYS, TokenStore

    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    store = TokenStore(client, table)
    now = time.time()
    for record in store.list(LOCAL_USER_ID):
        if record.name == LOCAL_TOKEN_NAME:
            store.revoke(LOCAL_USER_ID, record.id, now)
    _, secret = store.create(
        LOCAL_USER_ID,
        LOCAL_TOKEN_NAME,
        SCOPES,
        MAX_EXPIRES_IN_DAYS,
        now,
        email=LOCAL_USER_EMAIL,
        limited=False,
    )
    return secret


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
        # The authorizer reads every token afresh: a revoked token is refused at once.
        "SQURL_AUTH_CACHE_SECONDS": "0",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Always the emulator: a shell's real AWS settings must never reach a real table.
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = emulator_endpoint
    os.environ.pop("AWS_PROFILE", None)


class LocalSqurl:
    """The emulator, the table, the functions and the HTTP front, started and stopped together."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        api_key: str | None = None,
        *,
        fresh: bool = False,
        client_timeout: float = CLIENT_TIMEOUT_SECONDS,
        access_log: bool = True,
    ):
        self.host = host
        # SQURL_API_KEY may list several keys (comma-separated), each its own owner.
        self.api_keys = [k.strip() for k in (api_key or "").split(",") if k.strip()] or [
            secrets.token_urlsafe(24)
        ]
        self.api_key = self.api_keys[0]
        self.data_dir = data_dir_from_environment()
        self.emulator = Emulator(host, data_dir=self.data_dir, fresh=fresh).start()
        self.functions = Environments()
        self.http = HttpServer(
            host,
            port,
            self._answer,
            client_timeout=client_timeout,
            max_body=MAX_GATEWAY_BODY,
            access_log=access_log,
        )
        self.port = self.http.server_address[1]
        configure_environment(self.emulator.endpoint, self.port, host)
        self.emulator.create_table(os.environ["SQURL_TABLE_NAME"], REGION)
        # Import jobs: the upload URLs' PUT and the background worker (docs/imports.md).
        self.imports = LocalImports(self.data_dir, max_bytes=MAX_GATEWAY_BODY, fresh=fresh)
        os.environ.update(self.imports.environment(f"http://{host}:{self.port}"))
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
        self.front = Front(
            gateway.handle,
            cloudfront,
            os.environ.get("SQURL_REDIRECT_PATH", "regional"),
            on_link_change=self._forget_at_the_edge,
        )
        # The web app at /app/, built from web/ now (None in a copy without web/).
        self.web = WebApp.build()
        # Lambda's init for every function now, so no first request is slow.
        self.functions.load("redirect", "create_url", "get_url", "click_consumer", "authorizer")
        self.user_id, self.user_email = LOCAL_USER_ID, LOCAL_USER_EMAIL
        self.token = ready_token(self.emulator.endpoint, os.environ["SQURL_TABLE_NAME"])

    def _forget_at_the_edge(self, code: str) -> None:
        """The edge function's memory of `code` goes with CloudFront's (Front purges that)."""
        with self.functions.turn("edge_redirect"):
            module = self.functions.loaded("edge_redirect")
            if module is not None:
                module.redirector.cache.discard(code)

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> ProxyResult:
        if target.startswith(LOCAL_UPLOADS_PATH):
            return self.imports.handle(method, target, body)
        if method in ("GET", "HEAD") and target.partition("?")[0] == DOCS_PATH:
            # The local server's own page (docs is a reserved code): not part of the API.
            page = docs_page()
            return ProxyResult(
                200,
                {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"},
                page,
            )
        app_page = self.web.answer(method, urlsplit(target).path) if self.web else None
        if app_page is not None:
            return app_page
        return self.front.handle(method, target, headers, body, source_ip)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalSqurl:
        self.clicks.start()
        self.imports.start()
        self.http.start()
        return self

    def stop(self) -> None:
        """In order, each step bounded: the HTTP front (requests in flight answered), the click
        stream (what is queued is counted), the store (with the time that is left)."""
        deadline = time.monotonic() + STOP_SECONDS
        self.http.stop(grace_seconds=GRACE_SECONDS)
        self.imports.stop(timeout=IMPORTS_STOP_SECONDS)
        self.clicks.stop(timeout=CLICK_FLUSH_SECONDS)
        if not _within(deadline - time.monotonic(), self.emulator.stop):
            print("the DynamoDB emulator did not stop in time", file=sys.stderr, flush=True)


def _within(seconds: float, step: Callable[[], object]) -> bool:
    """Runs `step`, waiting for it no longer than `seconds`; True if it finished."""
    thread = threading.Thread(target=step, name=f"stop-{step.__qualname__}", daemon=True)
    thread.start()
    thread.join(max(0.0, seconds))
    return not thread.is_alive()


def banner(local: LocalSqurl) -> str:
    others = "".join(f"\n  another owner's key: {key}" for key in local.api_keys[1:])
    return f"""
squrl is running at {local.url}  (DynamoDB emulator at {local.emulator.endpoint})
Data is kept in {local.data_dir} (--fresh or SQURL_FRESH=1 starts empty).

  API key: {local.api_key}{others}
  user: {local.user_id} ({local.user_email})
  token: {local.token}
  web app, signed in: {local.url}/app/#token={local.token}
  API reference: {local.url}/docs  (OpenAPI document: {local.url}/openapi.json)

  curl -s -X POST {local.url}/urls \\
       -H 'x-api-key: {local.api_key}' -H 'Content-Type: application/json' \\
       -d '{{"original_url": "https://example.com/hello"}}'

{web_app_line(local)}Ctrl-C stops everything.
"""


def web_app_line(local: LocalSqurl) -> str:
    """The link that opens the web app signed in (SPEC 10), when the app is there."""
    if local.web is None:
        return ""
    return f"  Web app, signed in: {local.url}/app/#token={quote(local.api_key, safe='')}\n\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devserver", description=__doc__)
    parser.add_argument(
        "--fresh", action="store_true", help="start with an empty store (deletes the stored data)"
    )
    fresh = parser.parse_args(argv).fresh or fresh_from_environment()
    start = time.monotonic()
    # Before anything listens: a signal sent as soon as /health answers must not be lost (a
    # shell starts background jobs with SIGINT ignored until a handler is set). The handler does
    # nothing itself: Python writes the signal's number to the wakeup socket, whichever thread
    # the kernel interrupted, and the main thread, blocked reading that socket, does the stop.
    wakeup_reader, wakeup_writer = socket.socketpair()
    wakeup_writer.setblocking(False)
    signal.set_wakeup_fd(wakeup_writer.fileno(), warn_on_full_buffer=False)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _note_signal)
    port = int(os.environ.get("SQURL_PORT", "8080"))
    try:
        local = LocalSqurl(
            port=port,
            api_key=os.environ.get("SQURL_API_KEY") or None,
            fresh=fresh,
            client_timeout=float(
                os.environ.get("SQURL_CLIENT_TIMEOUT", str(CLIENT_TIMEOUT_SECONDS))
            ),
            access_log=os.environ.get("SQURL_ACCESS_LOG", "1") != "0",
        ).start()
    except StoreError as error:
        sys.exit(f"squrl: {error}")
    print(banner(local), flush=True)
    print(f"ready in {time.monotonic() - start:.1f}s", flush=True)
    wakeup_reader.recv(1)
    stopping = time.monotonic()
    local.stop()
    print(f"squrl stopped in {time.monotonic() - stopping:.1f}s.", flush=True)
    # Everything this process started is stopped. What remains is the interpreter freeing its
    # objects (boto3, moto and the handlers' modules): 0.7 s to over a second measured, which
    # the 3 s bound cannot afford on a busy machine, and which the OS does at once.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


def _note_signal(signum: int, frame: object) -> None:
    """Nothing to do here: the wakeup socket has the signal (see main)."""


if __name__ == "__main__":
    main()

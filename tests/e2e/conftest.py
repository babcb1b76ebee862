"""A `make dev` server started once per test session, used over real HTTP."""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The session server's client timeout (SQURL_CLIENT_TIMEOUT): short, so tests of it are quick.
CLIENT_TIMEOUT_SECONDS = 2


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass
class LocalServer:
    url: str
    api_key: str
    process: subprocess.Popen[bytes]

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        key: str | bool | None = True,
    ) -> HttpResponse:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key is True:
            all_headers["x-api-key"] = self.api_key
        elif isinstance(key, str):
            all_headers["x-api-key"] = key
        request = urllib.request.Request(self.url + path, data, all_headers, method=method)
        try:
            with _opener.open(request, timeout=10) as response:
                return HttpResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, dict(error.headers), error.read())

    def create(self, body: Any, **kwargs: Any) -> HttpResponse:
        return self.request("POST", "/urls", body, **kwargs)


# Each xdist worker takes ports from its own block below Linux's ephemeral range (32768+), so
# no port handed out by a bind to port 0 (the emulators', the other worker's) can take a
# server's port between choosing it here and the server binding it.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_PORTS = itertools.count(20000 + 1000 * _WORKER)


def free_port() -> int:
    for port in _PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_server(
    port: int,
    api_key: str | None,
    extra_env: dict[str, str] | None = None,
    *,
    ignore_sigint: bool = False,
    args: tuple[str, ...] = (),
):
    # A clean environment, as on a laptop: nothing from the unit tests' settings leaks in.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SQURL_", "POWERTOOLS_", "AWS_", "LOG_LEVEL"))
    }
    env.update({"SQURL_PORT": str(port), "SQURL_ACCESS_LOG": "0", **(extra_env or {})})
    if "SQURL_DATA_DIR" not in env:
        # Tests never write into the checkout's `.squrl/`: each server its own store.
        env["SQURL_DATA_DIR"] = temporary_data_dir()
    if api_key:
        env["SQURL_API_KEY"] = api_key
    return subprocess.Popen(
        [sys.executable, "-m", "devserver", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if ignore_sigint
        else None,
    )


def temporary_data_dir() -> str:
    path = tempfile.mkdtemp(prefix="squrl-e2e-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"local server exited early:\n{output}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("local server did not become ready")


@pytest.fixture(scope="session")
def squrl() -> Iterator[LocalServer]:
    port = free_port()
    api_key = "e2e-" + os.urandom(8).hex()
    # Generous limits: the suite itself must not trip the local throttle.
    process = start_server(
        port,
        api_key,
        {"SQURL_RATE_LIMIT": "1000", "SQURL_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT_SECONDS)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LocalServer(url, api_key, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

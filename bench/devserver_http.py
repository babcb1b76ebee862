"""`make dev` throughput: requests per second over keep-alive connections, one server run.

- `redirects_1conn_rps`: one keep-alive connection following one short link (the HTTP layer and
  the redirect function, nothing else in flight), and `redirect_server_cpu_ms`, the server
  process's CPU time per redirect in that loop (Linux), which other load on the machine hardly
  moves, unlike the rate;
- `redirects_8conn_rps`: eight such connections at once;
- `creates_8conn_rps`: eight connections creating links (one environment of the create function
  serves them in turn, as one Lambda environment would);
- `stop_s`: then, with 200 idle keep-alive connections open, SIGINT to exit (SPEC 6: within 3 s);
- `http_layer_rps`: the HTTP layer alone (devserver/http_server.py in its own process, its
  function a stub answering 302), one keep-alive connection: what parsing and writing cost.

Compare a change by running this before and after it, on the same machine, in one go.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench.common import ROOT

KEY = "bench"
REDIRECTS = 3000
CREATES_PER_CONNECTION = 60
CONNECTIONS = 8
IDLE_CONNECTIONS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQURL_", "AWS_"))}
    env.update(
        {
            "SQURL_PORT": str(port),
            "SQURL_API_KEY": KEY,
            "SQURL_ACCESS_LOG": "0",
            "SQURL_RATE_LIMIT": "1000000",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        if process.poll() is not None:
            raise RuntimeError("the local server exited before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.05)


def _call(connection: http.client.HTTPConnection, method: str, path: str, body: object = None):
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, data, {"x-api-key": KEY, "User-Agent": "bench"})
    response = connection.getresponse()
    return response.status, response.read()


def _redirects(port: int, code: str, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        status, _ = _call(connection, "GET", f"/{code}")
        assert status == 302, status
    connection.close()


def _creates(port: int, worker: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for index in range(CREATES_PER_CONNECTION):
        url = f"https://bench-{worker}-{index}.example/{os.urandom(4).hex()}"
        status, _ = _call(connection, "POST", "/urls", {"original_url": url})
        assert status == 201, status
    connection.close()


# The HTTP layer in a process of its own, in front of a stub that answers every request with a 302.
_STUB_SERVER = """
import sys
from devserver.http_server import HttpServer
from devserver.lambda_shapes import ProxyResult
answer = ProxyResult(302, {"Location": "https://example.com/a", "X-Short-Code": "abc"}, b"")
server = HttpServer("127.0.0.1", 0, lambda *request: answer, max_body=1 << 20, access_log=False)
print(server.start().server_address[1], flush=True)
sys.stdin.read()
"""


def _http_layer_rps(count: int = 4000) -> float:
    process = subprocess.Popen(
        [sys.executable, "-c", _STUB_SERVER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        port = int(process.stdout.readline())  # type: ignore[union-attr]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"User-Agent": "Mozilla/5.0 (iPhone) Mobile/15E148", "Accept": "text/html"}

        def loop(times: int) -> None:
            for _ in range(times):
                connection.request("GET", "/abc", headers=headers)
                response = connection.getresponse()
                response.read()
                assert response.status == 302, response.status

        loop(200)  # warm-up
        return _rate(count, lambda: loop(count))
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        process.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc (0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rate(count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return round(count / (time.perf_counter() - started), 1)


def _parallel(task: Callable[[int], object], count: int) -> None:
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        list(pool.map(task, range(count)))


def _stop_with_idle_connections(port: int, process: subprocess.Popen[bytes]) -> float:
    idle = []
    for _ in range(IDLE_CONNECTIONS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        _call(connection, "GET", "/health")
        idle.append(connection)
    started = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    stopped = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return round(stopped, 2)


def run() -> dict[str, object]:
    port = _free_port()
    process = _start(port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, body = _call(
            connection,
            "POST",
            "/urls",
            {"original_url": "https://bench.example/", "redirect_type": 302},
        )
        assert status == 201, (status, body)
        code = json.loads(body)["short_code"]
        _redirects(port, code, 200)  # warm-up

        per_connection = REDIRECTS // CONNECTIONS
        cpu = _cpu_seconds(process.pid)
        results: dict[str, object] = {
            "redirects_1conn_rps": _rate(REDIRECTS, lambda: _redirects(port, code, REDIRECTS)),
            "redirect_server_cpu_ms": round(
                (_cpu_seconds(process.pid) - cpu) * 1000 / REDIRECTS, 2
            ),
            "redirects_8conn_rps": _rate(
                per_connection * CONNECTIONS,
                lambda: _parallel(lambda _: _redirects(port, code, per_connection), CONNECTIONS),
            ),
            "creates_8conn_rps": _rate(
                CREATES_PER_CONNECTION * CONNECTIONS,
                lambda: _parallel(lambda worker: _creates(port, worker), CONNECTIONS),
            ),
        }
        results["stop_s"] = _stop_with_idle_connections(port, process)
        results["http_layer_rps"] = _http_layer_rps()
        return results
    finally:
        if process.poll() is None:
            process.kill()

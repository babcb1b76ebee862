"""Import throughput on `make dev`: rows per second for a 100,000-row CSV (docs/imports.md).

Starts a local server on a fresh data directory, creates an import, uploads the file through
the upload URL and polls `GET /imports/{id}` until the job is done. The file has squrl's own
CSV header; per 10 rows, 8 are created with a custom code, 1 is a duplicate (skipped) and 1 has
a private address (failed), so every path of the chunk processor is in the figure.

    .venv/bin/python -m bench imports            (or: .venv/bin/python -m bench.imports --rows N)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from bench.common import ROOT

ROWS = 100_000
KEY = "bench-imports"


def csv_file(rows: int) -> bytes:
    lines = ["original_url,custom_code,title,tags,ttl_hours,redirect_type\n"]
    for i in range(rows):
        if i % 10 == 9:
            lines.append(f"http://10.1.{i // 250 % 250}.{i % 250}/,,,,,\n")
        elif i % 10 == 8:
            lines.append(f"https://example.com/bench/{i - 1},b-{i - 1},,,,\n")
        else:
            lines.append(f"https://example.com/bench/{i},b-{i},Bench row {i},bench,,\n")
    return "".join(lines).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, method: str, body: bytes | None = None, key: bool = True) -> Any:
    headers = {"x-api-key": KEY, "Content-Type": "application/json"} if key else {}
    request = urllib.request.Request(url, body, headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError("the local server exited")
        try:
            _call(f"{base}/health", "GET", key=False)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the local server did not start")


@contextlib.contextmanager
def local_server(name: str) -> Iterator[str]:
    """A `make dev` server on a free port with an empty data dir, for one benchmark: its URL."""
    data_dir = tempfile.mkdtemp(prefix=f"squrl-bench-{name}-")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQURL_", "AWS_"))}
    env.update(
        SQURL_PORT=str(port),
        SQURL_API_KEY=KEY,
        SQURL_DATA_DIR=data_dir,
        SQURL_ACCESS_LOG="0",
        SQURL_RATE_LIMIT="100000",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def run(rows: int = ROWS) -> dict[str, Any]:
    data = csv_file(rows)
    with local_server("imports") as base:
        job = _call(f"{base}/imports", "POST", json.dumps({"format": "csv"}).encode())
        started = time.monotonic()
        _call(job["upload_url"], "PUT", data, key=False)
        uploaded = time.monotonic()
        while True:
            status = _call(f"{base}/imports/{job['id']}", "GET")
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        finished = time.monotonic()
    seconds = finished - started
    return {
        "rows": rows,
        "bytes": len(data),
        "status": status["status"],
        "created": status["created"],
        "skipped": status["skipped"],
        "failed": status["failed"],
        "upload_seconds": round(uploaded - started, 2),
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--rows", type=int, default=ROWS)
    print(json.dumps(run(parser.parse_args().rows), indent=2))

"""`make dev` start-up: from launching the local server to its first 200 on /health, and from
SIGINT to exit. The spec asks for a server that starts in seconds and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.common import ROOT

ROUNDS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_round() -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="squrl-bench-") as data_dir:
        return _one_round_in(data_dir)


def _one_round_in(data_dir: str) -> tuple[float, float]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQURL_", "AWS_"))}
    env.update({"SQURL_PORT": str(port), "SQURL_API_KEY": "bench", "SQURL_ACCESS_LOG": "0"})
    env["SQURL_DATA_DIR"] = data_dir
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the local server exited before it was ready")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        ready = time.perf_counter() - started
        stopping = time.perf_counter()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        return ready, time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()


def run() -> dict[str, object]:
    ready, stop = zip(*(_one_round() for _ in range(ROUNDS)), strict=True)
    return {
        "rounds": ROUNDS,
        "ready_median_s": round(statistics.median(ready), 2),
        "ready_max_s": round(max(ready), 2),
        "stop_median_s": round(statistics.median(stop), 2),
        "stop_max_s": round(max(stop), 2),
    }

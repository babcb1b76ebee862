"""Soak: `make dev` under sustained mixed traffic, watched for errors, latency, memory and lost
clicks.

A real `python -m devserver` on a temporary data directory is driven by a few dozen keep-alive
clients for a set time: redirects over thousands of codes with a Zipf-like spread (browser user
agent, so each is a human click), GET /urls/{code}, GET /urls/{code}/stats and creates. It
reports requests per second, p50/p99 per route, the server's RSS every minute (from
/proc/<pid>/status), 5xx answers, and, once the click consumer has drained, the click counts
summed over the codes against the redirects answered.

    .venv/bin/python -m bench soak --minutes 1        (the default run is 10 minutes)
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT

DEFAULT_MINUTES = 10.0
CLIENTS = 32
INITIAL_CODES = 2000
ZIPF_EXPONENT = 1.0
# Of every 100 requests: redirects, link reads, stats reads, creates.
MIX = (("redirect", 70), ("get_url", 12), ("stats", 10), ("create", 8))
EXPECTED = {"redirect": (301,), "get_url": (200,), "stats": (200,), "create": (201,)}
RSS_EVERY_SECONDS = 60.0
DRAIN_TIMEOUT_SECONDS = 180.0
COUNTING_CLIENTS = 8
API_KEY = "soak-key"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Client:
    """One keep-alive connection; reconnects after the server closes it."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body, headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    connection_errors: int = 0
    redirects: Counter[str] = field(default_factory=Counter)  # code -> redirects answered
    unexpected: list[str] = field(default_factory=list)  # a few answers that were not expected
    lock: threading.Lock = field(default_factory=threading.Lock)


class Soak:
    def __init__(self, port: int, codes: list[str], mix: tuple[tuple[str, int], ...] = MIX):
        self.port = port
        self.mix = mix
        self.codes = codes
        self.redirect_codes = list(codes)
        weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(codes))]
        self.cumulative = list(itertools.accumulate(weights))
        self.tally = Tally()
        self.created = itertools.count()

    def worker(self, seed: int, deadline: float) -> None:
        chance = random.Random(seed)
        client = Client(self.port)
        routes = [name for name, _ in self.mix]
        weights = [weight for _, weight in self.mix]
        local = Tally()
        try:
            while time.monotonic() < deadline:
                route = chance.choices(routes, weights)[0]
                started = time.perf_counter()
                try:
                    status, code, body = self.one(client, route, chance)
                except (ConnectionError, http.client.HTTPException, OSError):
                    local.connection_errors += 1
                    continue
                local.latencies[route].append(time.perf_counter() - started)
                local.statuses[route][status] += 1
                if route == "redirect" and status in (301, 302):
                    local.redirects[code] += 1
                if status not in EXPECTED[route] and len(local.unexpected) < 5:
                    local.unexpected.append(f"{route} {code} -> {status} {body[:300]!r}")
        finally:
            client.close()
            with self.tally.lock:
                for route, samples in local.latencies.items():
                    self.tally.latencies[route].extend(samples)
                for route, counts in local.statuses.items():
                    self.tally.statuses[route].update(counts)
                self.tally.redirects.update(local.redirects)
                self.tally.connection_errors += local.connection_errors
                self.tally.unexpected.extend(local.unexpected[: 10 - len(self.tally.unexpected)])

    def one(self, client: Client, route: str, chance: random.Random) -> tuple[int, str, bytes]:
        key = {"x-api-key": API_KEY}
        if route == "create":
            number = next(self.created)
            body = json.dumps({"original_url": f"https://example.com/soak/new/{number}"}).encode()
            status, data = client.request(
                "POST", "/urls", body, {**key, "Content-Type": "application/json"}
            )
            if status == 201:
                self.codes.append(json.loads(data)["short_code"])
            return status, body.decode(), data
        if route == "redirect":
            code = chance.choices(self.redirect_codes, cum_weights=self.cumulative)[0]
            status, data = client.request("GET", f"/{code}", headers={"User-Agent": BROWSER})
            return status, code, data
        code = chance.choice(self.codes)
        path = f"/urls/{code}" if route == "get_url" else f"/urls/{code}/stats"
        status, data = client.request("GET", path, headers=key)
        return status, code, data


def _create_initial(port: int, count: int) -> list[str]:
    codes: list[str] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def creator() -> None:
        client = Client(port)
        for number in numbers:
            body = json.dumps({"original_url": f"https://example.com/soak/{number}"}).encode()
            status, data = client.request(
                "POST", "/urls", body, {"x-api-key": API_KEY, "Content-Type": "application/json"}
            )
            if status != 201:
                raise RuntimeError(f"setup create answered {status}: {data[:200]!r}")
            with lock:
                codes.append(json.loads(data)["short_code"])
        client.close()

    threads = [threading.Thread(target=creator) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def _counted_clicks(port: int, codes: list[str]) -> dict[str, int]:
    """click_count of each code, read by a few clients at once (-1: the read failed)."""
    counts: dict[str, int] = {}
    pending = iter(codes)
    lock = threading.Lock()

    def reader() -> None:
        client = Client(port)
        while True:
            with lock:
                code = next(pending, None)
            if code is None:
                break
            status, data = client.request("GET", f"/urls/{code}", headers={"x-api-key": API_KEY})
            counts[code] = json.loads(data)["click_count"] if status == 200 else -1
        client.close()

    threads = [threading.Thread(target=reader) for _ in range(COUNTING_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the local server exited before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the local server did not become ready")


def run(
    minutes: float | None = None, clients: int = CLIENTS, creates: bool = True
) -> dict[str, Any]:
    """`creates=False` leaves creates out of the mix, so the data stops growing: what memory
    does then is the server's own."""
    if minutes is None:
        minutes = float(os.environ.get("SQURL_SOAK_MINUTES", DEFAULT_MINUTES))
    with tempfile.TemporaryDirectory(prefix="squrl-soak-") as scratch:
        mix = MIX if creates else tuple(pair for pair in MIX if pair[0] != "create")
        return _run(Path(scratch), minutes, clients, mix)


def _run(
    scratch: Path, minutes: float, clients: int, mix: tuple[tuple[str, int], ...] = MIX
) -> dict[str, Any]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQURL_", "AWS_"))}
    env.update(
        {
            "SQURL_PORT": str(port),
            "SQURL_API_KEY": API_KEY,
            "SQURL_ACCESS_LOG": "0",
            "SQURL_DATA_DIR": str(scratch / "data"),
            # The soak measures the server, not the local throttle.
            "SQURL_RATE_LIMIT": "1000000",
        }
    )
    log_path = scratch / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devserver"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        _wait_ready(port, process)
        setup_started = time.monotonic()
        codes = _create_initial(port, INITIAL_CODES)
        setup_seconds = time.monotonic() - setup_started
        soak = Soak(port, codes, mix)
        rss: list[dict[str, float]] = [{"minute": 0.0, "rss_mb": rss_mb(process.pid)}]
        started = time.monotonic()
        deadline = started + minutes * 60
        threads = [
            threading.Thread(target=soak.worker, args=(seed, deadline), daemon=True)
            for seed in range(clients)
        ]
        for thread in threads:
            thread.start()
        next_sample = started + RSS_EVERY_SECONDS
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
            now = time.monotonic()
            if now >= next_sample:
                rss.append(
                    {"minute": round((now - started) / 60, 1), "rss_mb": rss_mb(process.pid)}
                )
                next_sample += RSS_EVERY_SECONDS
        elapsed = time.monotonic() - started
        rss.append({"minute": round(elapsed / 60, 1), "rss_mb": rss_mb(process.pid)})

        tally = soak.tally
        sent = sum(tally.redirects.values())
        clicked = sorted(tally.redirects)
        drain_started = time.monotonic()
        counts = _counted_clicks(port, clicked)
        counted_at_load_end = sum(counts.values())
        while (
            sum(counts.values()) < sent and time.monotonic() - drain_started < DRAIN_TIMEOUT_SECONDS
        ):
            time.sleep(2)
            counts = _counted_clicks(port, clicked)
        mismatched = {
            code: {"redirects": tally.redirects[code], "counted": counts[code]}
            for code in clicked
            if counts[code] != tally.redirects[code]
        }
        requests = sum(len(samples) for samples in tally.latencies.values())
        server_errors = sum(
            n
            for counts_ in tally.statuses.values()
            for status, n in counts_.items()
            if status >= 500
        )
        data_bytes = sum(p.stat().st_size for p in (scratch / "data").rglob("*") if p.is_file())
        result: dict[str, Any] = {
            "minutes": round(elapsed / 60, 2),
            "clients": clients,
            "mix": dict(mix),
            "initial_codes": INITIAL_CODES,
            "setup_creates_per_s": round(INITIAL_CODES / setup_seconds, 1),
            "requests": requests,
            "requests_per_s": round(requests / elapsed, 1),
            "server_errors_5xx": server_errors,
            "connection_errors": tally.connection_errors,
            "routes": {
                route: {
                    "requests": len(samples),
                    "p50_ms": round(statistics.median(samples) * 1000, 1),
                    "p99_ms": round(_percentile(samples, 0.99) * 1000, 1),
                    "statuses": dict(sorted(tally.statuses[route].items())),
                }
                for route, samples in sorted(tally.latencies.items())
            },
            "rss_mb": rss,
            "rss_after_drain_mb": rss_mb(process.pid),
            "data_dir_mb": round(data_bytes / 1024 / 1024, 1),
            "clicks": {
                "redirects_answered": sent,
                "codes_redirected": len(clicked),
                "counted_when_load_stopped": counted_at_load_end,
                "click_count_sum": sum(counts.values()),
                "codes_miscounted": len(mismatched),
                "drain_seconds": round(time.monotonic() - drain_started, 1),
            },
        }
        if tally.unexpected:
            result["unexpected_answers_sample"] = tally.unexpected
        if mismatched:
            result["clicks"]["miscounted_sample"] = dict(list(mismatched.items())[:5])
        stop_started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        result["stop_seconds"] = round(time.monotonic() - stop_started, 2)
        if server_errors or mismatched:
            result["server_log_tail"] = log_path.read_text(errors="replace")[-3000:]
        return result
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))

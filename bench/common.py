"""Helpers for benchmarks that time fresh interpreters (cold starts)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What a Lambda sandbox would hold: fake credentials and the function's configuration.
LAMBDA_LIKE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "SQURL_ENV": "bench",
    "SQURL_TABLE_NAME": "squrl-urls-bench",
    "SQURL_SHORT_BASE_URL": "https://sq.example.com",
    "POWERTOOLS_SERVICE_NAME": "squrl",
    "POWERTOOLS_METRICS_NAMESPACE": "Squrl",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # Bundles ship no .pyc (the bundler strips them), so a cold start compiles squrl's own
    # modules; writing none here also keeps the benchmark from changing a bundle it imports.
    "PYTHONDONTWRITEBYTECODE": "1",
}


def compare_in_fresh_interpreters(
    statements: dict[str, str], repeats: int = 15
) -> dict[str, dict[str, float]]:
    """`time_in_fresh_interpreter` for several statements, their samples interleaved round by
    round, so a noisy neighbour slows them all alike and their ratio stays meaningful."""
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(repeats):
        for name, statement in statements.items():
            samples[name].append(time_in_fresh_interpreter(statement, repeats=1)["median_ms"])
    return {
        name: {
            "median_ms": round(statistics.median(values), 1),
            "min_ms": round(min(values), 1),
            "max_ms": round(max(values), 1),
        }
        for name, values in samples.items()
    }


def time_in_fresh_interpreter(statement: str, repeats: int = 7) -> dict[str, float]:
    """Median and spread of the wall time of `statement` in a new Python process each time.

    The timer starts inside the child, after the interpreter is up, so interpreter start-up is
    not counted: what remains is what a Lambda init would spend on imports and clients.
    """
    code = f"import time\nt0 = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t0)\n"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **LAMBDA_LIKE_ENV}
    samples = []
    # One discarded warm-up run fills the OS page cache.
    for index in range(repeats + 1):
        output = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if index:
            samples.append(float(output.strip().splitlines()[-1]) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
    }

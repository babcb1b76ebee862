"""`GET /me/export` on `make dev`: seconds for an owner with 2,000 links (docs/identity.md).

Starts a local server on a fresh data directory, creates the links with one import (each link
has one history entry, no clicks), then times `GET /me/export` three times and reports the
fastest and the document's size.

    .venv/bin/python -m bench export            (or: .venv/bin/python -m bench.export --links N)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

from bench.common import ROOT
from bench.imports import KEY, _call, _free_port, _wait_ready

LINKS = 2000


def _links(rows: int) -> bytes:
    lines = ["original_url,custom_code,title,tags,ttl_hours,redirect_type\n"]
    lines += [f"https://example.com/export/{i},x-{i},Export {i},bench,,\n" for i in range(rows)]
    return "".join(lines).encode()


def _export(base: str) -> tuple[float, int, int]:
    request = urllib.request.Request(f"{base}/me/export", headers={"x-api-key": KEY})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=600) as response:
        raw = response.read()
    return time.monotonic() - started, len(raw), len(json.loads(raw)["links"])


def run(links: int = LINKS) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="squrl-bench-export-")
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
        job = _call(f"{base}/imports", "POST", json.dumps({"format": "csv"}).encode())
        _call(job["upload_url"], "PUT", _links(links), key=False)
        while _call(f"{base}/imports/{job['id']}", "GET")["status"] not in ("done", "failed"):
            time.sleep(0.5)
        timings = [_export(base) for _ in range(3)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    seconds, size, exported = min(timings)
    return {
        "links": links,
        "exported": exported,
        "bytes": size,
        "seconds": round(seconds, 2),
        "links_per_second": round(exported / seconds),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.export")
    parser.add_argument("--links", type=int, default=LINKS)
    print(json.dumps(run(parser.parse_args().links), indent=2))

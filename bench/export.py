"""`GET /me/export` on `make dev`: seconds for an owner with 2,000 links (docs/identity.md).

Starts a local server on a fresh data directory, creates the links with one import (each link
has one history entry, no clicks), then times `GET /me/export` three times and reports the
fastest and the document's size.

    .venv/bin/python -m bench export            (or: .venv/bin/python -m bench.export --links N)
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from typing import Any

from bench.imports import KEY, _call, local_server

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
    with local_server("export") as base:
        job = _call(f"{base}/imports", "POST", json.dumps({"format": "csv"}).encode())
        _call(job["upload_url"], "PUT", _links(links), key=False)
        while _call(f"{base}/imports/{job['id']}", "GET")["status"] not in ("done", "failed"):
            time.sleep(0.5)
        timings = [_export(base) for _ in range(3)]
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

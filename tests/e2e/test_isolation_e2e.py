"""Lambda's concurrency model, locally: concurrent requests never see each other's event.

In AWS an execution environment serves one request at a time. The local server runs every
function in one process, where Powertools keeps the current event in a class attribute; if two
requests ran one function at once, one could answer with the other's body or owner.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e

THREADS = 20
ROUNDS_PER_THREAD = 25  # each round: one create and three reads, so 2,000 requests in all


@dataclass(frozen=True)
class TwoOwners:
    port: int
    keys: tuple[str, str]


@pytest.fixture(scope="module")
def two_owners() -> Iterator[TwoOwners]:
    port = free_port()
    keys = ("alice-" + os.urandom(6).hex(), "bob-" + os.urandom(6).hex())
    process = start_server(port, ",".join(keys), {"SQURL_RATE_LIMIT": "100000"})
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield TwoOwners(port, keys)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


class Client:
    """One keep-alive connection, as a busy client holds one."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"x-api-key": key, "Content-Type": "application/json"}
        self.connection.request(method, path, data, headers)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def test_interleaved_owners_only_ever_see_their_own_requests(two_owners: TwoOwners) -> None:
    created: list[tuple[int, str, str]] = []  # (owner index, code, url), shared across threads

    def worker(thread: int) -> list[str]:
        client = Client(two_owners.port)
        wrong: list[str] = []
        for round_ in range(ROUNDS_PER_THREAD):
            me = (thread + round_) % 2
            other = 1 - me
            url = f"https://iso-{me}-{thread}-{round_}.example/{os.urandom(4).hex()}"
            status, body = client.call("POST", "/urls", two_owners.keys[me], {"original_url": url})
            if status != 201 or body.get("original_url") != url:
                wrong.append(f"create of {url} by owner {me}: {status} {body}")
                continue
            code = body["short_code"]
            created.append((me, code, url))
            status, body = client.call("GET", f"/urls/{code}", two_owners.keys[me])
            if status != 200 or body.get("original_url") != url:
                wrong.append(f"owner {me} reading {code}: {status} {body}")
            status, body = client.call("GET", f"/urls/{code}", two_owners.keys[other])
            if status != 404 or body.get("error") != "NotFound":
                wrong.append(f"owner {other} reading {me}'s {code}: {status} {body}")
            # Someone else's recent link, read by its owner's rival: always a 404.
            owner, their_code, _ = created[(len(created) * 7919 + thread) % len(created)]
            status, body = client.call("GET", f"/urls/{their_code}", two_owners.keys[1 - owner])
            if status != 404:
                wrong.append(f"owner {1 - owner} reading {owner}'s {their_code}: {status} {body}")
        return wrong

    with ThreadPoolExecutor(THREADS) as pool:
        wrong = [line for lines in pool.map(worker, range(THREADS)) for line in lines]
    assert len(created) == THREADS * ROUNDS_PER_THREAD - sum("create of" in w for w in wrong)
    assert wrong == [], f"{len(wrong)} cross-request answers, e.g. {wrong[:5]}"

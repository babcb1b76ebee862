"""Import jobs over HTTP against `make dev` (docs/api.md section 9, docs/imports.md)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import free_port, start_server, temporary_data_dir, wait_ready

pytestmark = pytest.mark.e2e

HEADER = "original_url,custom_code,title,tags,ttl_hours,redirect_type\n"


def import_file(rows: int, tag: str) -> tuple[bytes, dict[str, int]]:
    """Rows with known outcomes, per ten: 7 created, 1 skipped, 2 failed."""
    lines = [HEADER]
    expected = {"created": 0, "skipped": 0, "failed": 0}
    for i in range(rows):
        kind = i % 10
        if kind == 3:
            lines.append(f"http://10.0.{i // 250 % 250}.{i % 250}/,,,,,\n")
            expected["failed"] += 1
        elif kind == 5:  # the same code and URL as the row before: already this owner's
            lines.append(f"https://example.com/{tag}/{i - 1},{tag}-{i - 1},,,,\n")
            expected["skipped"] += 1
        elif kind == 8:
            lines.append(f"https://example.com/{tag}/{i},,,,0,\n")
            expected["failed"] += 1
        else:
            lines.append(f'https://example.com/{tag}/{i},{tag}-{i},"Row {i}, imported",t,,\n')
            expected["created"] += 1
    return "".join(lines).encode(), expected


@dataclass
class Server:
    url: str
    keys: tuple[str, str]
    data_dir: str
    process: Any = None

    def call(self, method: str, path: str, body: Any = None, key: int = 0) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"x-api-key": self.keys[key], "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def put(self, url: str, data: bytes) -> int:
        request = urllib.request.Request(url, data, method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def wait(self, job_id: str, until: Any, timeout: float = 240) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, job = self.call("GET", f"/imports/{job_id}")
            assert status == 200
            if until(job):
                return job
            time.sleep(0.2)
        raise AssertionError(f"import {job_id} did not get there: {job}")


def launch(port: int, keys: tuple[str, str], data_dir: str, chunk_rows: int) -> Any:
    process = start_server(
        port,
        ",".join(keys),
        {
            "SQURL_RATE_LIMIT": "100000",
            "SQURL_DATA_DIR": data_dir,
            "SQURL_IMPORT_CHUNK_ROWS": str(chunk_rows),
        },
    )
    wait_ready(f"http://127.0.0.1:{port}", process)
    return process


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    port = free_port()
    keys = ("imp-a-" + os.urandom(6).hex(), "imp-b-" + os.urandom(6).hex())
    data_dir = temporary_data_dir()
    found = Server(f"http://127.0.0.1:{port}", keys, data_dir)
    found.process = launch(port, keys, data_dir, chunk_rows=500)
    try:
        yield found
    finally:
        found.process.send_signal(signal.SIGTERM)
        found.process.wait(timeout=15)


def test_a_10000_row_csv_imports_with_counts_that_match_the_file(server: Server) -> None:
    data, expected = import_file(10_000, "ten")
    status, created = server.call("POST", "/imports", {"format": "csv"})
    assert status == 201 and set(created) == {"id", "upload_url"}
    status, job = server.call("GET", f"/imports/{created['id']}")
    assert (status, job["status"]) == (200, "waiting")
    assert server.put(created["upload_url"], data) == 200
    job = server.wait(created["id"], lambda j: j["status"] in ("done", "failed"))
    assert job["status"] == "done"
    assert job["total"] == 10_000
    assert (job["created"], job["skipped"], job["failed"]) == (7000, 1000, 2000)
    assert expected == {"created": 7000, "skipped": 1000, "failed": 2000}
    # The first 1,000 errors are kept, each with its line (row i is on line i + 2).
    assert len(job["errors"]) == 1000 and job["errors_truncated"] is True
    assert job["errors"][0] == {
        "line": 5,
        "error": "InvalidUrl",
        "reason": "private_address",
        "field": "original_url",
    }
    assert job["errors"][1] == {
        "line": 10,
        "error": "ValidationError",
        "reason": "out_of_range",
        "field": "ttl_hours",
    }
    status, link = server.call("GET", "/urls/ten-9999")
    assert status == 200
    assert (link["original_url"], link["title"], link["tags"]) == (
        "https://example.com/ten/9999",
        "Row 9999, imported",
        ["t"],
    )


def test_another_owners_import_is_not_found(server: Server) -> None:
    _, created = server.call("POST", "/imports", {"format": "dub"})
    status, body = server.call("GET", f"/imports/{created['id']}", key=1)
    assert (status, body["error"]) == (404, "NotFound")
    assert server.call("GET", "/imports/not-an-id")[0] == 404


def test_bad_requests_and_bad_uploads(server: Server) -> None:
    status, body = server.call("POST", "/imports", {"format": "xml"})
    assert (status, body["error"], body["details"]["reason"]) == (
        400,
        "ValidationError",
        "not_allowed",
    )
    status, body = server.call("POST", "/imports", {"format": "csv", "extra": 1})
    assert (status, body["details"]["reason"]) == (400, "unknown_field")
    _, created = server.call("POST", "/imports", {"format": "csv"})
    url = created["upload_url"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert server.put(tampered, b"original_url\n") == 403
    assert server.put(url, HEADER.encode() + b"https://example.com/once,,,,,\n") == 200
    assert server.put(url, b"original_url\n") == 409  # one upload per import
    job = server.wait(created["id"], lambda j: j["status"] == "done")
    assert (job["total"], job["created"]) == (1, 1)


def test_a_file_without_the_formats_url_column_fails_the_job(server: Server) -> None:
    _, created = server.call("POST", "/imports", {"format": "shlink"})
    assert server.put(created["upload_url"], b"shortCode,title\nabc,x\n") == 200
    job = server.wait(
        created["id"], lambda j: j["status"] != "waiting" and j["status"] != "running"
    )
    assert job["status"] == "failed" and "longUrl" in job["message"]


def test_an_import_resumes_after_a_crash_without_creating_twice() -> None:
    port = free_port()
    keys = ("crash-a-" + os.urandom(6).hex(), "crash-b-" + os.urandom(6).hex())
    data_dir = temporary_data_dir()
    server = Server(f"http://127.0.0.1:{port}", keys, data_dir)
    server.process = launch(port, keys, data_dir, chunk_rows=100)
    try:
        data, expected = import_file(3000, "crash")
        _, created = server.call("POST", "/imports", {"format": "csv"})
        assert server.put(created["upload_url"], data) == 200
        server.wait(created["id"], lambda j: j["created"] >= 300)
        server.process.kill()  # no graceful stop: a crash mid-import
        server.process.wait(timeout=15)
        server.process = launch(port, keys, data_dir, chunk_rows=100)
        job = server.wait(created["id"], lambda j: j["status"] == "done")
        assert (job["created"], job["skipped"], job["failed"]) == (
            expected["created"],
            expected["skipped"],
            expected["failed"],
        )
        assert len(job["errors"]) == expected["failed"]
        assert len({e["line"] for e in job["errors"]}) == expected["failed"]  # none twice
        codes: set[str] = set()
        cursor = ""
        while True:
            status, page = server.call("GET", f"/urls?limit=100{cursor}")
            assert status == 200
            codes.update(link["short_code"] for link in page["items"])
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert len(codes) == expected["created"] == 2100
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)


def test_an_erased_owners_waiting_import_refuses_its_upload() -> None:
    port = free_port()
    keys = ("erase-a-" + os.urandom(6).hex(), "erase-b-" + os.urandom(6).hex())
    server = Server(f"http://127.0.0.1:{port}", keys, temporary_data_dir())
    server.process = launch(port, keys, server.data_dir, chunk_rows=100)
    try:
        _, waiting = server.call("POST", "/imports", {"format": "csv"})
        _, finished = server.call("POST", "/imports", {"format": "csv"})
        data, _ = import_file(100, "gone")
        assert server.put(finished["upload_url"], data) == 200
        server.wait(finished["id"], lambda j: j["status"] == "done")
        status, document = server.call("GET", "/me/export")
        assert status == 200
        assert {j["id"]: j["status"] for j in document["imports"]} == {
            waiting["id"]: "waiting",
            finished["id"]: "done",
        }
        assert server.call("DELETE", "/me")[0] == 204
        upload = HEADER.encode() + b"https://example.com/erased,erased-1,,,,\n"
        assert server.put(waiting["upload_url"], upload) == 409
        status, job = server.call("GET", f"/imports/{waiting['id']}")
        assert (status, job["status"], job["message"]) == (200, "failed", "account erased")
        time.sleep(1)
        assert server.call("GET", "/urls")[1]["items"] == []  # the imported links are deleted
        # No link was made from the refused upload: its code is free.
        body = {"original_url": "https://example.com/other", "custom_code": "erased-1"}
        assert server.call("POST", "/urls", body, key=1)[0] == 201
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)

"""schemathesis against the local server with the committed OpenAPI document (docs/api.md
section 9): every operation's answers conform to the document (status code, content type,
response schema) and none is a 5xx, for generated requests (its examples, coverage and fuzzing
phases) and for stateful sequences that follow the document's links from a created link to
get, patch, history, QR and delete, from a created token to its revocation and from a created
import to its job.

Its command line runs the phases: the stateful phase needs its engine, because the server keeps
state across sequences (a second create of a URL reuses the first link), which hypothesis'
own state machines cannot replay. Bounded by examples per operation (about 60 s for 21
operations here).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalServer, free_port, start_server, wait_ready

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    # A method the document does not list is 405 with an Allow header naming the listed ones.
    "unsupported_method",
    "allow_header_conformance",
)
EXAMPLES_PER_OPERATION = 30
# The stateful links the document declares: from a created link (POST /urls, POST /create: 201
# and 200) to get, patch, delete, history and QR (20); from a created token to its revocation
# and from a created import to its job (2).
DECLARED_LINKS = 22
# DELETE /me erases the caller: every link it has, every token. Run in the middle of the phases
# it would empty the state every other operation (and every stateful sequence) is tested on, so
# it is left out here and tested on its own, with an owner of its own
# (tests/e2e/test_identity_e2e.py::test_export_then_erasure).
EXCLUDED_OPERATIONS = ("deleteMe",)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """A server of its own: generated links and throttling never meet the other tests'."""
    port = free_port()
    api_key = "schemathesis-key"
    process = start_server(port, api_key, {"SQURL_RATE_LIMIT": "5000"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LocalServer(url, api_key, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_the_api_conforms_to_its_document(server: LocalServer, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        server.url,
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"x-api-key: {server.api_key}",
        *(arg for op in EXCLUDED_OPERATIONS for arg in ("--exclude-operation-id", op)),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        # Redirects are answers under test, never followed (their targets are anywhere).
        "--max-redirects",
        "0",
        "--request-timeout",
        "15",
        "--workers",
        "1",
        "--seed",
        "14",
        "--no-color",
    ]
    # In a directory of its own: schemathesis keeps a cache where it runs.
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-3000:]
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operations = sum(len(methods) for methods in document["paths"].values())
    tested = re.search(r"Tested: (\d+)", output)
    assert tested is not None, output[-3000:]
    assert int(tested.group(1)) == operations - len(EXCLUDED_OPERATIONS), output[-3000:]
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total", output)
    assert links is not None, output[-3000:]
    covered, _, total = (int(n) for n in links.groups())
    assert total >= DECLARED_LINKS and covered > 0, output[-3000:]

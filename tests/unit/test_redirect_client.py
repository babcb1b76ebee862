"""Both redirect paths read with the standard-library client and never import boto3 (DAX aside).

boto3 and its client were the whole of the redirect's cold start; the import test runs each
handler in a fresh interpreter, as Lambda's init does, and looks at what it loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from functions.edge_redirect import handler as edge_module
from functions.redirect import handler as redirect_module
from shared.redirect.client import redirect_client
from shared.redirect.dynamodb import GetItemClient

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "amazondax", "urllib3", "s3transfer")


@pytest.mark.parametrize(
    "handler", ["functions.redirect.handler", "functions.edge_redirect.handler"]
)
def test_a_cold_redirect_handler_imports_no_boto3(handler: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQURL_DAX")}
    env["SQURL_CLICK_STREAM"] = "squrl-test-clicks"  # the click hand-off loaded too
    code = (
        f"import sys, {handler}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"


def test_both_handlers_hold_the_lean_client_for_their_region() -> None:
    for client in (redirect_module.redirector.client, edge_module.client):
        assert isinstance(client, GetItemClient)
        assert client.meta.region_name == "us-east-1"
        assert client.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"


def test_without_dax_the_client_is_the_lean_one() -> None:
    client = redirect_client("eu-west-1")
    assert isinstance(client, GetItemClient)
    assert client.meta.region_name == "eu-west-1"


def test_with_dax_the_client_is_amazondaxs(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class AmazonDaxClient:
        def __init__(self, **kwargs: Any):
            made.append(kwargs)

    fake = types.ModuleType("amazondax")
    fake.AmazonDaxClient = AmazonDaxClient  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "amazondax", fake)
    endpoint = "daxs://squrl.abc123.dax-clusters.eu-west-1.amazonaws.com"
    client = redirect_client("eu-west-1", endpoint)
    assert isinstance(client, AmazonDaxClient)
    assert made == [{"endpoint_url": endpoint, "region_name": "eu-west-1"}]

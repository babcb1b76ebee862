"""The developer surface over HTTP against the local server (docs/api.md section 9): bulk
creation, QR codes read back by zxing-cpp, the public OpenAPI document and its /docs page, and
405 with Allow for undeclared methods."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from shared.openapi import document_text
from tests.e2e.conftest import LocalServer
from tests.qr_reading import decode_png, decode_svg

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_bulk_creates_links_in_order(squrl: LocalServer) -> None:
    # 50, not 100 (the unit tests' bound): the emulator's durable writes take ~16 ms each, and
    # the suite's client gives up after 10 s on a busy machine.
    run = uuid.uuid4().hex[:8]
    items = [{"original_url": f"https://bulk.example/{run}/{i}"} for i in range(50)]
    reply = squrl.request("POST", "/urls/bulk", {"items": items})
    assert reply.status == 200, reply.body[:300]
    assert reply.headers["Content-Type"] == "application/json"
    results = reply.json()["results"]
    assert [r["status"] for r in results] == [201] * 50
    assert [r["link"]["original_url"] for r in results] == [i["original_url"] for i in items]
    # Each is an ordinary link: it redirects.
    code = results[42]["link"]["short_code"]
    assert squrl.request("GET", f"/{code}", key=False).status == 301


def test_bulk_replays_with_an_idempotency_key(squrl: LocalServer) -> None:
    key = "bulk-" + uuid.uuid4().hex
    body = {"items": [{"original_url": f"https://bulk.example/{key}"}, {"original_url": "x"}]}
    first = squrl.request("POST", "/urls/bulk", body, {"Idempotency-Key": key})
    again = squrl.request("POST", "/urls/bulk", body, {"Idempotency-Key": key})
    assert first.status == again.status == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [r["status"] for r in first.json()["results"]] == [201, 400]


def test_bulk_limits(squrl: LocalServer) -> None:
    none = squrl.request("POST", "/urls/bulk", {"items": []})
    assert none.status == 400 and none.json()["details"]["field"] == "items"
    many = squrl.request("POST", "/urls/bulk", {"items": [{"original_url": "https://a.b/"}] * 101})
    assert many.status == 400 and many.json()["error"] == "ValidationError"
    big = squrl.request("POST", "/urls/bulk", b'{"items": [' + b" " * (1024 * 1024) + b"]}")
    assert big.status == 413 and big.json()["error"] == "PayloadTooLarge"


@pytest.mark.parametrize("form", ["svg", "png"])
def test_a_qr_code_decodes_to_the_short_url(squrl: LocalServer, form: str) -> None:
    link = squrl.create({"original_url": f"https://qr.example/{uuid.uuid4().hex}"}).json()
    reply = squrl.request("GET", f"/urls/{link['short_code']}/qr?format={form}&ecc=Q")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == {"svg": "image/svg+xml", "png": "image/png"}[form]
    assert reply.headers["Cache-Control"] == "private, max-age=86400"
    decode = decode_svg if form == "svg" else decode_png
    assert decode(reply.body) == [link["short_url"]]
    assert link["short_url"] == f"{squrl.url}/{link['short_code']}"
    cached = squrl.request(
        "GET",
        f"/urls/{link['short_code']}/qr?format={form}&ecc=Q",
        headers={"If-None-Match": reply.headers["ETag"]},
    )
    assert cached.status == 304 and cached.body == b""


def test_a_bad_qr_parameter_is_named(squrl: LocalServer) -> None:
    link = squrl.create({"original_url": f"https://qr.example/{uuid.uuid4().hex}"}).json()
    reply = squrl.request("GET", f"/urls/{link['short_code']}/qr?scale=99")
    assert reply.status == 400
    assert reply.json()["details"] == {"reason": "out_of_range", "field": "scale"}
    assert squrl.request("GET", f"/urls/{link['short_code']}/qr", key=False).status == 403


def test_the_openapi_document_is_public_and_current(squrl: LocalServer) -> None:
    reply = squrl.request("GET", "/openapi.json", key=False)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.body.decode() == document_text()
    assert reply.json() == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_the_docs_page_is_self_contained(squrl: LocalServer) -> None:
    reply = squrl.request("GET", "/docs", key=False, headers={"Accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body.decode()
    assert "/openapi.json" in page
    # No network beyond the local server: nothing loaded from another origin.
    assert "http://" not in page.replace(squrl.url, "") and "https://" not in page
    assert "<script src" not in page and "<link" not in page


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/urls", "GET, POST"),
        ("POST", "/urls/abc123", "DELETE, GET, PATCH"),
        ("GET", "/urls/bulk", "POST"),
        ("DELETE", "/abc123", "GET, HEAD"),
        ("POST", "/openapi.json", "GET"),
    ],
)
def test_an_undeclared_method_is_405_with_allow(
    squrl: LocalServer, method: str, path: str, allow: str
) -> None:
    reply = squrl.request(method, path, {"original_url": "https://x.example/"})
    assert reply.status == 405
    assert reply.headers["Allow"] == allow
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"] == "MethodNotAllowed"

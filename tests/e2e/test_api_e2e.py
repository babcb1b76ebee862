"""SPEC section 2 over HTTP, against the local server that `make dev` runs."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import LocalServer, free_port, port_is_open, start_server, wait_ready

pytestmark = pytest.mark.e2e


def test_health(squrl: LocalServer) -> None:
    response = squrl.request("GET", "/health", key=False)
    assert response.status == 200
    assert response.json() == {"status": "ok", "region": "us-east-1"}


def test_create_redirect_get_round_trip(squrl: LocalServer) -> None:
    created = squrl.create({"original_url": "https://Example.com/ü?q=1", "redirect_type": 302})
    assert created.status == 201
    assert created.headers["Content-Type"] == "application/json"
    body = created.json()
    code = body["short_code"]
    assert created.headers["Location"] == f"/urls/{code}"
    assert body["short_url"] == f"{squrl.url}/{code}"
    assert body["original_url"] == "https://example.com/%C3%BC?q=1"

    followed = squrl.request("GET", f"/{code}", key=False)
    assert followed.status == 302
    assert followed.headers["Location"] == "https://example.com/%C3%BC?q=1"
    assert followed.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert followed.headers["X-Short-Code"] == code

    head = squrl.request("HEAD", f"/{code}", key=False)
    assert head.status == 302 and head.body == b""

    shown = squrl.request("GET", f"/urls/{code}")
    assert shown.status == 200
    assert shown.json() == {**body, "status": "active", "click_count": shown.json()["click_count"]}


def test_create_alias(squrl: LocalServer) -> None:
    assert (
        squrl.request("POST", "/create", {"original_url": "https://alias.example/"}).status == 201
    )


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_api_key_is_required(squrl: LocalServer, key: str | None) -> None:
    for method, path, body in [
        ("POST", "/urls", {"original_url": "https://x.example/"}),
        ("POST", "/create", {"original_url": "https://x.example/"}),
        ("GET", "/urls/abcdefgh", None),
    ]:
        response = squrl.request(method, path, body, key=key)
        assert response.status == 403, (method, path)
        assert response.json()["error"] == "Forbidden"


def test_unknown_code_404_json_and_html(squrl: LocalServer) -> None:
    as_json = squrl.request("GET", "/NoSuchCode", key=False)
    assert as_json.status == 404
    assert as_json.headers["Cache-Control"] == "public, max-age=60"
    assert as_json.json() == {
        "error": "NotFound",
        "message": "No link has this short code.",
        "details": None,
    }
    as_html = squrl.request("GET", "/NoSuchCode", headers={"Accept": "text/html"}, key=False)
    assert as_html.status == 404
    assert as_html.headers["Content-Type"].startswith("text/html")
    too_long = squrl.request("GET", "/" + "a" * 21, key=False)
    assert too_long.status == 404


def test_every_bad_input_gets_its_reason_and_nothing_is_stored(squrl: LocalServer) -> None:
    cases = [
        ({"original_url": "ftp://x.example/"}, 400, "InvalidUrl", "invalid_scheme"),
        ({"original_url": "http://0x7f000001/"}, 400, "InvalidUrl", "private_address"),
        (
            {"original_url": "http://127.0.0.1:" + squrl.url.rsplit(":", 1)[1] + "/"},
            400,
            "InvalidUrl",
            "private_address",
        ),
        ({"original_url": "https://a@b.com"}, 400, "InvalidUrl", "credentials"),
        ({"original_url": "https://x.example/\n"}, 400, "InvalidUrl", "malformed"),
        (
            {"original_url": "https://x.example/", "custom_code": "Health"},
            400,
            "ValidationError",
            "reserved",
        ),
        (
            {"original_url": "https://x.example/", "custom_code": "no"},
            400,
            "ValidationError",
            "format",
        ),
        (
            {"original_url": "https://x.example/", "redirect_type": 303},
            400,
            "ValidationError",
            "not_allowed",
        ),
        (
            {"original_url": "https://x.example/", "surprise": True},
            400,
            "ValidationError",
            "unknown_field",
        ),
        (b"not json", 400, "ValidationError", "invalid_json"),
    ]
    for body, status, error, reason in cases:
        response = squrl.create(body)
        assert response.status == status, body
        assert response.json()["error"] == error, body
        assert response.json()["details"]["reason"] == reason, body
    large = squrl.create({"original_url": "https://x.example/" + "a" * 9000})
    assert large.status == 413 and large.json()["error"] == "PayloadTooLarge"
    # Refused custom codes were never stored.
    assert squrl.request("GET", "/Health", key=False).status == 404


def test_sixteen_concurrent_claims_of_one_custom_code(squrl: LocalServer) -> None:
    code = "race-" + str(int(time.time() * 1000) % 10**8)

    def claim(i: int) -> int:
        return squrl.create({"original_url": f"https://r{i}.example/", "custom_code": code}).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(claim, range(16)))
    assert sorted(statuses) == [201] + [409] * 15
    winner = squrl.request("GET", f"/{code}", key=False)
    assert winner.status == 301


def test_dedup_over_http(squrl: LocalServer) -> None:
    first = squrl.create({"original_url": "https://dedup-e2e.example/"})
    again = squrl.create({"original_url": "https://DEDUP-E2E.example"})
    assert (first.status, again.status) == (201, 200)
    assert again.json() == first.json()


def test_unknown_route_is_a_json_404(squrl: LocalServer) -> None:
    response = squrl.request("DELETE", "/urls/abc")
    assert response.status == 404
    assert json.loads(response.body)["error"] == "NotFound"


def test_server_prints_key_and_stops_cleanly_on_sigint() -> None:
    port = free_port()
    process = start_server(port, None)
    url = f"http://127.0.0.1:{port}"
    ready_after = wait_ready(url, process)
    assert ready_after < 15
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    text = output.decode()
    assert process.returncode == 0
    assert "API key: " in text and "curl -s -X POST" in text
    assert not port_is_open(port)


def test_throttle_answers_429_with_retry_after() -> None:
    port = free_port()
    process = start_server(port, "k", {"SQURL_RATE_LIMIT": "1", "SQURL_BURST_LIMIT": "2"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        server = LocalServer(url, "k", process)
        statuses = [server.request("GET", "/abcdefgh", key=False) for _ in range(6)]
        limited = [r for r in statuses if r.status == 429]
        assert limited, [r.status for r in statuses]
        assert int(limited[0].headers["Retry-After"]) >= 1
        assert limited[0].json()["error"] == "RateLimitExceeded"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_each_key_is_its_own_owner() -> None:
    port = free_port()
    process = start_server(port, "alice-key,bob-key")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        alice, bob = LocalServer(url, "alice-key", process), LocalServer(url, "bob-key", process)
        created = alice.create({"original_url": "https://owners.example/"})
        assert created.status == 201
        code = created.json()["short_code"]
        assert alice.request("GET", f"/urls/{code}").status == 200
        # Another owner neither sees the link nor gets it back from deduplication.
        assert bob.request("GET", f"/urls/{code}").json()["error"] == "NotFound"
        bobs = bob.create({"original_url": "https://owners.example/"})
        assert bobs.status == 201 and bobs.json()["short_code"] != code
        # Everyone follows it.
        assert bob.request("GET", f"/{code}", key=False).status == 301
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

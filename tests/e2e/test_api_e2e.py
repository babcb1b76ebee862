"""docs/api.md section 2 over HTTP, against the local server that `make dev` runs."""

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
    assert head.headers["Location"] == followed.headers["Location"]

    shown = squrl.request("GET", f"/urls/{code}")
    assert shown.status == 200
    assert shown.json() == {**body, "status": "active", "click_count": shown.json()["click_count"]}


def test_head_never_states_a_length_other_than_gets(squrl: LocalServer) -> None:
    # RFC 9110 8.6: a HEAD answer's Content-Length, if any, is the GET body's length.
    for accept in ("application/json", "text/html"):
        got = squrl.request("GET", "/nosuchcode9", headers={"Accept": accept}, key=False)
        head = squrl.request("HEAD", "/nosuchcode9", headers={"Accept": accept}, key=False)
        assert got.status == head.status == 404 and head.body == b""
        assert head.headers.get("Content-Length") in (None, str(len(got.body)))


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


# (A method a declared path lacks is 405 instead: tests/e2e/test_devsurface_e2e.py.)
@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/urls/abc/nope"), ("GET", "/a/b"), ("GET", "/")]
)
def test_unknown_route_is_the_404_of_an_unknown_code(
    squrl: LocalServer, method: str, path: str
) -> None:
    response = squrl.request(method, path)
    assert response.status == 404
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert json.loads(response.body)["error"] == "NotFound"
    page = squrl.request(method, path, headers={"Accept": "text/html"})
    assert page.status == 404 and page.headers["Content-Type"].startswith("text/html")


def raw_exchange(squrl: LocalServer, request: bytes) -> bytes:
    import socket

    host, port = squrl.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_bad_content_length_is_a_400(squrl: LocalServer) -> None:
    for length in (b"-5", b"abc"):
        reply = raw_exchange(
            squrl,
            b"POST /urls HTTP/1.1\r\nHost: x\r\nx-api-key: "
            + squrl.api_key.encode()
            + b"\r\nContent-Length: "
            + length
            + b"\r\nConnection: close\r\n\r\n",
        )
        assert reply.startswith(b"HTTP/1.1 400"), reply[:80]
        assert b'"error":"ValidationError"' in reply


@pytest.mark.parametrize(
    ("request_bytes", "status", "error"),
    [
        # A method a declared path does not have goes through the gateway: 405 (section 9).
        (
            b"FOO /abc HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n",
            405,
            "MethodNotAllowed",
        ),
        # A path no route has is the spec's 404, whatever the method.
        (b"FOO /a/b/c HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n", 404, "NotFound"),
        (b"GET /abc HTTP/2.5\r\nHost: x\r\n", 505, "InternalServerError"),
        (b"HELLO\r\n", 400, "ValidationError"),
        (b"GET /abc HTTP/1.1 extra\r\nHost: x\r\n", 400, "ValidationError"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n", 414, "ValidationError"),
        (
            b"GET /abc HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)),
            431,
            "ValidationError",
        ),
    ],
)
def test_what_the_http_layer_refuses_has_the_specs_error_shape(
    squrl: LocalServer, request_bytes: bytes, status: int, error: str
) -> None:
    reply = raw_exchange(squrl, request_bytes + b"Connection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head[:100]
    assert b"\r\nContent-Type: application/json" in head
    parsed = json.loads(body)
    assert parsed["error"] == error and set(parsed) == {"error", "message", "details"}


def test_chunked_bodies_are_read(squrl: LocalServer) -> None:
    body = b'{"original_url": "https://chunked.example/"}'
    chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    reply = raw_exchange(
        squrl,
        b"POST /urls HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + squrl.api_key.encode()
        + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + chunks,
    )
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert b"https://chunked.example/" in reply


def test_a_signal_right_after_readiness_stops_it_despite_stuck_clients() -> None:
    import socket

    port = free_port()
    # As a shell starts a background job: SIGINT ignored until the server sets its handler.
    process = start_server(port, "k", ignore_sigint=True)
    wait_ready(f"http://127.0.0.1:{port}", process)
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    idle.recv(500)
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.sendall(b"POST /urls HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: 100\r\n\r\n{")
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert process.returncode == 0
        assert not port_is_open(port)
    finally:
        idle.close()
        stuck.close()
        if process.poll() is None:
            process.kill()


def test_server_prints_key_and_stops_cleanly_on_sigint() -> None:
    port = free_port()
    process = start_server(port, None)
    url = f"http://127.0.0.1:{port}"
    # Readiness time is measured by the benchmarks, not asserted here: CI machines are shared.
    wait_ready(url, process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    text = output.decode()
    assert process.returncode == 0
    assert "API key: " in text and "curl -s -X POST" in text
    assert not port_is_open(port)


def test_throttle_is_per_key_with_retry_after() -> None:
    port = free_port()
    process = start_server(port, "k1,k2", {"SQURL_RATE_LIMIT": "1", "SQURL_BURST_LIMIT": "2"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        first, second = LocalServer(url, "k1", process), LocalServer(url, "k2", process)
        statuses = [first.request("GET", "/urls/abcdefgh") for _ in range(6)]
        limited = [r for r in statuses if r.status == 429]
        assert limited, [r.status for r in statuses]
        assert int(limited[0].headers["Retry-After"]) >= 1
        assert limited[0].json()["error"] == "RateLimitExceeded"
        # Another key has its own budget; a wrong key is still refused as such; health and
        # redirects live on the stage's higher limit.
        assert second.request("GET", "/urls/abcdefgh").status == 404
        assert first.request("GET", "/urls/abcdefgh", key="wrong").status == 403
        assert all(first.request("GET", "/health", key=False).status == 200 for _ in range(5))
        assert first.request("GET", "/abcdefgh", key=False).status == 404
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


def test_api_keys_are_bearer_tokens_of_their_own_owners() -> None:
    port = free_port()
    process = start_server(port, "alice-key,bob-key")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        alice = LocalServer(url, "alice-key", process)

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        created = alice.request(
            "POST",
            "/urls",
            {"original_url": "https://bearer.example/"},
            bearer("alice-key"),
            key=False,
        )
        assert created.status == 201
        code = created.json()["short_code"]
        # The same owner by either header; another key's bearer is another owner.
        assert alice.request("GET", f"/urls/{code}").status == 200
        mine = alice.request("GET", f"/urls/{code}", None, bearer("alice-key"), key=False)
        assert mine.status == 200
        theirs = alice.request("GET", f"/urls/{code}", None, bearer("bob-key"), key=False)
        assert theirs.status == 404
        for wrong in ("Bearer nope", "Basic alice-key", "Bearer", "alice-key"):
            refused = alice.request(
                "GET", f"/urls/{code}", None, {"Authorization": wrong}, key=False
            )
            assert refused.status == 403, wrong
            assert refused.json()["error"] == "Forbidden"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

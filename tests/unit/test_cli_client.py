"""The SDK (squrl_cli.client): one method per route, spec errors, retries, idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from squrl_cli.client import Client, SqurlConnectionError, SqurlError, retry_after_seconds
from tests.unit.cli_fakes import BASE_URL, TOKEN, FakeApi, error, link


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(api: FakeApi, sleeps: list[float]) -> Client:
    return Client(BASE_URL, TOKEN, transport=api.transport, sleep=sleeps.append)


# -- section 2 and 7 ---------------------------------------------------------------------------


def test_create_sends_bearer_token_the_given_fields_and_an_idempotency_key(
    api: FakeApi, client: Client
) -> None:
    api.on("POST", "/urls", httpx.Response(201, json=link("launch", tags=["a", "b"])))
    created = client.create_link(
        "https://example.com/launch", custom_code="launch", ttl_hours=24, tags=["b", "a"]
    )
    request = api.last("POST", "/urls")
    assert created["short_code"] == "launch"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert api.body(request) == {
        "original_url": "https://example.com/launch",
        "custom_code": "launch",
        "ttl_hours": 24,
        "tags": ["b", "a"],
    }
    key = request.headers["Idempotency-Key"]
    assert 1 <= len(key) <= 255 and key.isascii() and key.isprintable()


def test_create_uses_the_callers_idempotency_key_and_a_fresh_one_otherwise(
    api: FakeApi, client: Client
) -> None:
    api.on("POST", "/urls", httpx.Response(201, json=link()))
    client.create_link("https://example.com/", idempotency_key="order-42")
    assert api.last().headers["Idempotency-Key"] == "order-42"
    client.create_link("https://example.com/")
    client.create_link("https://example.com/")
    keys = [request.headers["Idempotency-Key"] for request in api.requests[1:]]
    assert len(set(keys)) == 2


def test_a_create_whose_answer_was_lost_is_retried_with_the_same_key(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on(
        "POST",
        "/urls",
        httpx.ReadTimeout("lost"),
        httpx.Response(201, json=link(), headers={"Idempotent-Replayed": "true"}),
    )
    assert client.create_link("https://example.com/")["short_code"] == "abc123"
    first, second = api.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(sleeps) == 1


def test_a_patch_is_not_retried_after_a_broken_connection(api: FakeApi, client: Client) -> None:
    api.on("PATCH", "/urls/abc123", httpx.ReadError("reset"))
    with pytest.raises(SqurlConnectionError) as raised:
        client.update_link("abc123", title="x")
    assert len(api.requests) == 1
    assert raised.value.code == "ConnectionError"


def test_a_refused_connection_is_retried_for_any_method(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on(
        "PATCH",
        "/urls/abc123",
        httpx.ConnectError("refused"),
        httpx.Response(200, json=link(title="x", version=2)),
    )
    assert client.update_link("abc123", title="x")["version"] == 2
    assert len(api.requests) == 2 and sleeps == [0.5]


def test_reads_are_retried_with_backoff_then_reported(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on("GET", "/urls/abc123", httpx.ReadError("reset"))
    with pytest.raises(SqurlConnectionError, match=r"connection to https://api\.sq\.example"):
        client.get_link("abc123")
    assert len(api.requests) == 4  # the first try and max_retries = 3
    assert sleeps == [0.5, 1.0, 2.0]


def test_429_waits_for_retry_after_then_succeeds(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on(
        "GET",
        "/urls",
        error(429, "RateLimitExceeded", "Slow down.", **{"Retry-After": "7"}),
        httpx.Response(200, json={"items": [], "next_cursor": None}),
    )
    assert client.list_links() == {"items": [], "next_cursor": None}
    assert sleeps == [7.0]


def test_429_retries_a_non_idempotent_call_too_and_reports_when_it_persists(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on(
        "PATCH",
        "/urls/abc123",
        error(429, "RateLimitExceeded", "Slow down.", **{"Retry-After": "2"}),
    )
    with pytest.raises(SqurlError) as raised:
        client.update_link("abc123", title="x")
    assert raised.value.status == 429
    assert raised.value.code == "RateLimitExceeded"
    assert raised.value.retry_after == 2.0
    assert sleeps == [2.0, 2.0, 2.0]


def test_a_retry_after_longer_than_a_minute_is_reported_not_waited(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on("GET", "/urls", error(429, "RateLimitExceeded", "Later.", **{"Retry-After": "3600"}))
    with pytest.raises(SqurlError) as raised:
        client.list_links()
    assert raised.value.retry_after == 3600.0
    assert sleeps == [] and len(api.requests) == 1


def test_retry_after_as_an_http_date() -> None:
    moment = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_seconds(format_datetime(moment, usegmt=True))
    assert seconds is not None and 28 <= seconds <= 30
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_an_error_carries_the_spec_code_message_status_and_details(
    api: FakeApi, client: Client
) -> None:
    api.on(
        "POST",
        "/urls",
        error(
            400, "InvalidUrl", "Links to localhost are not allowed.", {"reason": "private_address"}
        ),
    )
    with pytest.raises(SqurlError) as raised:
        client.create_link("http://localhost/")
    assert (raised.value.status, raised.value.code) == (400, "InvalidUrl")
    assert raised.value.details == {"reason": "private_address"}
    assert raised.value.to_dict() == {
        "error": "InvalidUrl",
        "message": "Links to localhost are not allowed.",
        "details": {"reason": "private_address"},
        "status": 400,
    }


@pytest.mark.parametrize(
    ("response", "code"),
    [
        # API Gateway's own 403 when the key is missing.
        (httpx.Response(403, json={"message": "Forbidden"}), "Forbidden"),
        (httpx.Response(404, text="<html>not here</html>"), "NotFound"),
        (httpx.Response(502, text="Bad Gateway"), "InternalServerError"),
        (
            httpx.Response(412, json={"error": "PreconditionFailed", "message": "stale"}),
            "PreconditionFailed",
        ),
    ],
)
def test_error_answers_that_are_not_squrls_shape_still_map_to_a_code(
    api: FakeApi, client: Client, response: httpx.Response, code: str
) -> None:
    api.on("GET", "/urls/abc123", response)
    with pytest.raises(SqurlError) as raised:
        client.get_link("abc123")
    assert raised.value.code == code
    assert raised.value.status == response.status_code


def test_list_sends_only_the_given_filters(api: FakeApi, client: Client) -> None:
    api.on("GET", "/urls", httpx.Response(200, json={"items": [link()], "next_cursor": "c2"}))
    page = client.list_links(limit=10, status="disabled", tag="launch")
    assert page["next_cursor"] == "c2"
    assert dict(api.last().url.params) == {"limit": "10", "status": "disabled", "tag": "launch"}
    client.list_links()
    assert dict(api.last().url.params) == {}


def test_iter_links_follows_the_cursor_to_the_last_page(api: FakeApi, client: Client) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return httpx.Response(200, json={"items": [link("a"), link("b")], "next_cursor": "p2"})
        assert cursor == "p2"
        return httpx.Response(200, json={"items": [link("c")], "next_cursor": None})

    api.on("GET", "/urls", pages)
    codes = [item["short_code"] for item in client.iter_links(limit=2, tag="x")]
    assert codes == ["a", "b", "c"]
    assert [request.url.params.get("limit") for request in api.requests] == ["2", "2"]


def test_get_quotes_the_code_into_one_path_segment(api: FakeApi, client: Client) -> None:
    api.on("GET", "/urls/a/b", httpx.Response(200, json=link("a/b")))
    client.get_link("a/b")
    assert api.last().url.raw_path == b"/urls/a%2Fb"


def test_update_sends_if_match_and_null_for_never_expires(api: FakeApi, client: Client) -> None:
    api.on("PATCH", "/urls/abc123", httpx.Response(200, json=link(version=4)))
    client.update_link("abc123", if_match=3, expires_at=None, tags=["x"])
    request = api.last()
    assert request.headers["If-Match"] == '"3"'
    assert api.body(request) == {"expires_at": None, "tags": ["x"]}
    client.update_link("abc123", title="t")
    assert "If-Match" not in api.last().headers


def test_disable_and_enable_patch_the_status(api: FakeApi, client: Client) -> None:
    api.on(
        "PATCH", "/urls/abc123", lambda request: httpx.Response(200, json=link(**api.body(request)))
    )
    assert client.disable_link("abc123")["status"] == "disabled"
    assert api.body(api.last()) == {"status": "disabled"}
    assert client.enable_link("abc123")["status"] == "active"
    assert api.body(api.last()) == {"status": "active"}


def test_delete_stats_and_history(api: FakeApi, client: Client) -> None:
    stats = {"short_code": "abc123", "click_count": 3, "bot_clicks": 1, "daily": []}
    history = [{"at": "2026-12-01T10:00:00Z", "actor": "u1", "action": "created", "changes": {}}]
    api.on("DELETE", "/urls/abc123", httpx.Response(204))
    api.on("GET", "/urls/abc123/stats", httpx.Response(200, json=stats))
    api.on("GET", "/urls/abc123/history", httpx.Response(200, json={"items": history}))
    assert client.delete_link("abc123") is None
    assert client.link_stats("abc123") == stats
    assert client.link_history("abc123") == history
    assert [r.method for r in api.requests] == ["DELETE", "GET", "GET"]


def test_health_is_public_json(api: FakeApi, client: Client) -> None:
    api.on("GET", "/health", httpx.Response(200, json={"status": "ok", "region": "eu-west-1"}))
    assert client.health() == {"status": "ok", "region": "eu-west-1"}


# -- section 8 -----------------------------------------------------------------------------------


def test_me_export_and_delete_me(api: FakeApi, client: Client) -> None:
    me = {"user_id": "u1", "email": "a@example.com", "groups": []}
    export = {"links": [link()], "tokens": []}
    api.on("GET", "/me", httpx.Response(200, json=me))
    api.on("GET", "/me/export", httpx.Response(200, json=export))
    api.on("DELETE", "/me", httpx.Response(204))
    assert client.me() == me
    assert client.export_me() == export
    assert client.delete_me() is None
    assert api.last().method == "DELETE"


def test_the_export_waits_120_seconds_and_is_not_retried_after_a_read_timeout(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on("GET", "/me/export", httpx.ReadTimeout("slow"), httpx.Response(200, json={}))
    with pytest.raises(SqurlConnectionError):
        client.export_me()
    assert len(api.requests) == 1 and sleeps == []
    assert api.requests[0].extensions["timeout"]["read"] == 120.0


def test_the_export_is_retried_when_the_connection_was_refused(
    api: FakeApi, client: Client, sleeps: list[float]
) -> None:
    api.on("GET", "/me/export", httpx.ConnectError("refused"), httpx.Response(200, json={}))
    assert client.export_me() == {}
    assert len(api.requests) == 2 and sleeps == [0.5]


def test_tokens_list_create_and_revoke(api: FakeApi, client: Client) -> None:
    listed = [{"id": "t1", "name": "ci", "scopes": ["links:read"], "last_used_at": None}]
    created = {"id": "t2", "name": "deploy", "scopes": ["links:write"], "token": "squrl_secret"}
    api.on("GET", "/tokens", httpx.Response(200, json={"items": listed}))
    api.on("POST", "/tokens", httpx.Response(201, json=created))
    api.on("DELETE", "/tokens/t2", httpx.Response(204))
    assert client.list_tokens() == listed
    assert client.create_token("deploy", ["links:write"], expires_in_days=30) == created
    assert api.body(api.last()) == {
        "name": "deploy",
        "scopes": ["links:write"],
        "expires_in_days": 30,
    }
    client.revoke_token("t2")
    assert api.last().url.path == "/tokens/t2"


# -- section 9 -----------------------------------------------------------------------------------


def test_openapi(api: FakeApi, client: Client) -> None:
    api.on("GET", "/openapi.json", httpx.Response(200, json={"openapi": "3.1.0", "paths": {}}))
    assert client.openapi()["openapi"] == "3.1.0"


def test_bulk_sends_items_in_order_with_a_key_and_returns_results(
    api: FakeApi, client: Client
) -> None:
    results = [
        {"status": 201, "link": link("a")},
        {"status": 400, "error": {"error": "InvalidUrl", "message": "no", "details": None}},
    ]
    api.on("POST", "/urls/bulk", httpx.Response(200, json={"results": results}))
    answer = client.bulk_create(
        [{"original_url": "https://a.example/", "title": None}, {"original_url": "ftp://x"}],
        idempotency_key="batch-1",
    )
    assert answer == results
    assert api.body(api.last()) == {
        "items": [{"original_url": "https://a.example/"}, {"original_url": "ftp://x"}]
    }
    assert api.last().headers["Idempotency-Key"] == "batch-1"


def test_qr_asks_for_the_format_scale_border_and_ecc(api: FakeApi, client: Client) -> None:
    png = b"\x89PNG\r\n\x1a\nrest"
    api.on(
        "GET",
        "/urls/abc123/qr",
        httpx.Response(200, content=png, headers={"Content-Type": "image/png"}),
    )
    assert client.qr("abc123", format="png", scale=10, border=2, ecc="H") == png
    request = api.last()
    assert dict(request.url.params) == {"format": "png", "scale": "10", "border": "2", "ecc": "H"}
    assert request.headers["Accept"] == "image/png"


def test_imports_create_upload_and_status(api: FakeApi, client: Client) -> None:
    api.on(
        "POST",
        "/imports",
        httpx.Response(
            201, json={"id": "imp1", "upload_url": "https://uploads.example/imp1?sig=x"}
        ),
    )
    api.on("PUT", "/imp1", httpx.Response(200))
    api.on("GET", "/imports/imp1", httpx.Response(200, json={"id": "imp1", "status": "running"}))
    job = client.create_import("bitly")
    assert api.body(api.last()) == {"format": "bitly"}
    client.upload_import(job["upload_url"], b"url\nhttps://a.example/\n")
    upload = api.last("PUT")
    assert upload.url == "https://uploads.example/imp1?sig=x"
    assert upload.content == b"url\nhttps://a.example/\n"
    # A pre-signed URL elsewhere gets no API credential (S3 refuses two auth mechanisms).
    assert "Authorization" not in upload.headers
    assert client.get_import("imp1")["status"] == "running"


def test_an_upload_to_the_apis_own_origin_keeps_the_credential(
    api: FakeApi, client: Client
) -> None:
    api.on("PUT", "/imports/imp1/upload", httpx.Response(204))
    client.upload_import(f"{BASE_URL}/imports/imp1/upload?sig=x", b"data")
    assert api.last("PUT").headers["Authorization"] == f"Bearer {TOKEN}"


def test_no_token_sends_no_authorization(api: FakeApi) -> None:
    api.on("GET", "/health", httpx.Response(200, json={"status": "ok", "region": "r"}))
    Client(BASE_URL, None, transport=api.transport).health()
    assert "Authorization" not in api.last().headers

"""The three functions against moto, through API Gateway REST proxy events."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from functions.create_url import handler as create_module
from functions.get_url import handler as get_module
from functions.redirect import handler as redirect_module
from shared.links import repository
from tests.unit.events import context, event

TABLE = "squrl-urls-test"


def create(body: Any, owner: str = "owner-1") -> tuple[int, dict[str, Any], dict[str, str]]:
    response = create_module.handler(event("POST", "/urls", body, owner=owner), context())
    return response["statusCode"], json.loads(response["body"]), headers_of(response)


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """Single and multi-value headers merged, as API Gateway merges them."""
    merged = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        merged[key] = ", ".join(values)
    return merged


def redirect(code: str, method: str = "GET", accept: str | None = None) -> dict[str, Any]:
    headers = {"Accept": accept} if accept else {}
    return redirect_module.handler(event(method, f"/{code}", headers=headers), context())


def get(code: str, owner: str = "owner-1") -> tuple[int, dict[str, Any]]:
    response = get_module.handler(event("GET", f"/urls/{code}", owner=owner), context())
    return response["statusCode"], json.loads(response["body"])


def stored_count(dynamodb: Any) -> int:
    return dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"]


@pytest.fixture(autouse=True)
def fresh_clients(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Handlers make their clients at import; inside mock_aws they must talk to moto.
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)
    monkeypatch.setattr(create_module, "dynamodb", lambda region: dynamodb)
    monkeypatch.setattr(get_module, "dynamodb", lambda region: dynamodb)


def test_create_returns_201_with_the_specs_fields(dynamodb: Any) -> None:
    status, body, headers = create({"original_url": "https://Example.com/a", "ttl_hours": 24})
    assert status == 201
    assert headers["Content-Type"] == "application/json"
    assert headers["Location"] == f"/urls/{body['short_code']}"
    assert set(body) == {
        "short_code",
        "original_url",
        "short_url",
        "created_at",
        "expires_at",
        "redirect_type",
        # docs/api.md section 7: every representation
        "status",
        "click_count",
        "title",
        "tags",
        "updated_at",
        "version",
    }
    assert body["original_url"] == "https://example.com/a"
    assert body["short_url"] == f"https://sq.example.com/{body['short_code']}"
    assert len(body["short_code"]) == 8
    assert body["created_at"].endswith("Z") and body["expires_at"].endswith("Z")
    assert body["redirect_type"] == 301
    item = repository.get_link(dynamodb, TABLE, body["short_code"], consistent=True)
    assert item is not None
    assert item["expires_at"] - int(time.time()) in range(24 * 3600 - 5, 24 * 3600 + 1)
    assert item["owner_id"] == "owner-1" and item["status"] == "active"
    assert item["click_count"] == 0 and item["custom_code"] is False
    assert "ip" not in json.dumps(item).lower().replace("expires", "")


def test_create_alias_path(dynamodb: Any) -> None:
    response = create_module.handler(
        event("POST", "/create", {"original_url": "https://example.com/"}), context()
    )
    assert response["statusCode"] == 201


def test_never_expiring_link_has_null_expiry(dynamodb: Any) -> None:
    status, body, _ = create({"original_url": "https://example.com/forever"})
    assert status == 201 and body["expires_at"] is None
    item = repository.get_link(dynamodb, TABLE, body["short_code"], consistent=True)
    assert item is not None and "expires_at" not in item


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        ({"original_url": "javascript:alert(1)"}, "InvalidUrl", "invalid_scheme"),
        ({"original_url": "http://127.1/"}, "InvalidUrl", "private_address"),
        ({"original_url": "https://sq.example.com/x"}, "InvalidUrl", "self_reference"),
        ({"original_url": "https://a.evil.test/"}, "InvalidUrl", "blocked_domain"),
        ({"original_url": "https://u:p@h.com/"}, "InvalidUrl", "credentials"),
        ({"original_url": " https://x.com"}, "InvalidUrl", "malformed"),
        ({"original_url": "https://x.com/" + "a" * 2040}, "InvalidUrl", "too_long"),
        ({"original_url": "https://x.com", "custom_code": "admin"}, "ValidationError", "reserved"),
        ({"original_url": "https://x.com", "custom_code": "a b"}, "ValidationError", "format"),
        ({"original_url": "https://x.com", "nope": 1}, "ValidationError", "unknown_field"),
        ({"original_url": "https://x.com", "ttl_hours": 0}, "ValidationError", "out_of_range"),
        (b"{not json", "ValidationError", "invalid_json"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    dynamodb: Any, body: Any, error: str, reason: str
) -> None:
    status, response, headers = create(body)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert response["error"] == error
    assert response["details"]["reason"] == reason
    assert set(response) == {"error", "message", "details"}
    assert stored_count(dynamodb) == 0


def test_body_over_8_kib_is_413_and_nothing_is_stored(dynamodb: Any) -> None:
    status, response, _ = create({"original_url": "https://x.com/", "pad": "a" * 9000})
    assert status == 413 and response["error"] == "PayloadTooLarge"
    assert stored_count(dynamodb) == 0


def test_base64_bodies_are_decoded(dynamodb: Any) -> None:
    import base64

    request = event("POST", "/urls", {"original_url": "https://example.com/b64"})
    request["body"] = base64.b64encode(request["body"].encode()).decode()
    request["isBase64Encoded"] = True
    assert create_module.handler(request, context())["statusCode"] == 201


def test_custom_code_is_taken_once(dynamodb: Any) -> None:
    first, body, _ = create({"original_url": "https://a.example/", "custom_code": "Promo"})
    assert first == 201 and body["short_code"] == "Promo"
    second, conflict, _ = create({"original_url": "https://b.example/", "custom_code": "Promo"})
    assert second == 409 and conflict["error"] == "ConflictError"
    item = repository.get_link(dynamodb, TABLE, "Promo", consistent=True)
    assert item is not None and item["original_url"] == "https://a.example/"
    assert item["custom_code"] is True
    # Codes are case-sensitive: another case is another code.
    assert create({"original_url": "https://b.example/", "custom_code": "promo"})[0] == 201


def test_concurrent_custom_code_claims_yield_one_winner(dynamodb: Any) -> None:
    with ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(
                lambda i: create({"original_url": f"https://x{i}.example/", "custom_code": "race"})[
                    0
                ],
                range(16),
            )
        )
    assert sorted(statuses) == [201] + [409] * 15


def test_generated_code_collision_retries(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = create({"original_url": "https://first.example/"})[1]["short_code"]
    codes = iter([taken, taken, "Fresh123"])
    monkeypatch.setattr("shared.links.service.generate_code", lambda length: next(codes))
    status, body, _ = create({"original_url": "https://second.example/"})
    assert status == 201 and body["short_code"] == "Fresh123"
    first = repository.get_link(dynamodb, TABLE, taken, consistent=True)
    assert first is not None and first["original_url"] == "https://first.example/"


def test_deduplication_rules(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The handler's clock is pinned: "lives at least as long as asked" compares epoch seconds,
    # so the same lifetime asked a second later is a later expiry (checked below).
    clock = [1_800_000_000.25]
    monkeypatch.setattr(create_module, "time", SimpleNamespace(time=lambda: clock[0]))
    url = "https://dedup.example/page"
    status, first, _ = create({"original_url": url, "ttl_hours": 48})
    assert status == 201
    # Same URL (after normalization), same type, asking no longer than it lives: reused.
    again = create({"original_url": "HTTPS://DEDUP.example/page", "ttl_hours": 24})
    assert again[0] == 200 and again[1] == first
    assert create({"original_url": url, "ttl_hours": 48})[0] == 200
    clock[0] += 1
    later = create({"original_url": url, "ttl_hours": 48})
    assert later[0] == 201 and later[1]["short_code"] != first["short_code"]
    # Asking to live longer than it does, or forever: a new link.
    assert create({"original_url": url, "ttl_hours": 72})[0] == 201
    never = create({"original_url": url})
    assert never[0] == 201
    # A never-expiring link satisfies any lifetime.
    assert (
        create({"original_url": url, "ttl_hours": 87600})[1]["short_code"] == never[1]["short_code"]
    )
    # Another redirect type or another owner: a new link; other owners' links are never returned.
    assert create({"original_url": url, "redirect_type": 302})[0] == 201
    other = create({"original_url": url}, owner="owner-2")
    assert other[0] == 201 and other[1]["short_code"] != never[1]["short_code"]
    # A custom code always makes a new link.
    assert create({"original_url": url, "custom_code": "mine"})[0] == 201


def test_disabled_or_expired_links_are_not_reused(dynamodb: Any) -> None:
    url = "https://reuse.example/"
    code = create({"original_url": url})[1]["short_code"]
    dynamodb.update_item(
        TableName=TABLE,
        Key={"short_code": {"S": code}},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": {"S": "disabled"}},
    )
    status, body, _ = create({"original_url": url})
    assert status == 201 and body["short_code"] != code


@pytest.mark.parametrize("redirect_type", [301, 302, 307, 308])
def test_redirect_round_trip(dynamodb: Any, redirect_type: int) -> None:
    url = "https://example.com/%7Ea?x=1&y=%C3%BC#frag"
    code = create({"original_url": url, "redirect_type": redirect_type})[1]["short_code"]
    response = redirect(code)
    assert response["statusCode"] == redirect_type
    assert response["headers"]["Location"] == url
    assert response["headers"]["X-Short-Code"] == code


def test_head_answers_like_get_without_a_body(dynamodb: Any) -> None:
    code = create({"original_url": "https://example.com/head"})[1]["short_code"]
    head, get_ = redirect(code, "HEAD"), redirect(code)
    assert head["statusCode"] == get_["statusCode"] == 301
    assert head["headers"] == get_["headers"]
    assert head["body"] == ""
    missing = redirect("nope1234", "HEAD")
    assert missing["statusCode"] == 404 and missing["body"] == ""


def test_redirect_reads_one_projected_item(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code = create({"original_url": "https://example.com/p"})[1]["short_code"]
    calls: list[dict[str, Any]] = []
    real_get_item = dynamodb.get_item

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_get_item(**kwargs)

    monkeypatch.setattr(dynamodb, "get_item", spy)
    assert redirect(code)["statusCode"] == 301
    assert len(calls) == 1
    assert calls[0]["ConsistentRead"] is False
    assert "ProjectionExpression" in calls[0]


@pytest.mark.parametrize("code", ["x" * 21, "bad.code", "ü", "a%20b"])
def test_impossible_codes_are_404_without_a_read(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    monkeypatch.setattr(dynamodb, "get_item", lambda **_: pytest.fail("read the table"))
    response = redirect_module.handler(
        {"httpMethod": "GET", "resource": "/{code}", "pathParameters": {"code": code}}, context()
    )
    assert response["statusCode"] == 404
    assert response["headers"]["Cache-Control"] == "public, max-age=60"


def test_expired_before_ttl_is_gone(dynamodb: Any) -> None:
    code = create({"original_url": "https://example.com/old", "ttl_hours": 1})[1]["short_code"]
    dynamodb.update_item(
        TableName=TABLE,
        Key={"short_code": {"S": code}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 10)}},
    )
    response = redirect(code, accept="text/html")
    assert response["statusCode"] == 410
    assert response["headers"]["Content-Type"].startswith("text/html")
    json_response = redirect(code)
    assert json.loads(json_response["body"])["error"] == "Gone"
    assert get(code)[1]["status"] == "expired"


def test_health(dynamodb: Any) -> None:
    response = redirect_module.handler(
        {"httpMethod": "GET", "resource": "/health", "path": "/health"}, context()
    )
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "region": "us-east-1"}


def test_get_shows_the_owner_status_and_clicks(dynamodb: Any) -> None:
    created = create({"original_url": "https://example.com/mine", "ttl_hours": 5})[1]
    status, body = get(created["short_code"])
    assert status == 200
    assert body == {**created, "status": "active", "click_count": 0}
    assert body["version"] == 1 and body["updated_at"] == body["created_at"]


@pytest.mark.parametrize("code_kind", ["other_owner", "missing", "impossible"])
def test_get_is_404_for_anyone_but_the_owner(dynamodb: Any, code_kind: str) -> None:
    code = create({"original_url": "https://example.com/secret"})[1]["short_code"]
    target = {"other_owner": code, "missing": "zzzzzzzz", "impossible": "a" * 30}[code_kind]
    status, body = get(target, owner="owner-2" if code_kind == "other_owner" else "owner-1")
    assert status == 404
    assert body["error"] == "NotFound"


def test_unexpected_failure_is_500_without_a_trace(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(dynamodb, "transact_write_items", broken)
    status, body, _ = create({"original_url": "https://example.com/x", "custom_code": "boom"})
    assert status == 500
    assert body["error"] == "InternalServerError"
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)

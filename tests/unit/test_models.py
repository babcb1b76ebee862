"""The create body: every bad field is a ValidationError with a reason, never a crash."""

from __future__ import annotations

import json

import pytest

from shared.links.errors import PayloadTooLarge, ValidationError
from shared.links.models import MAX_BODY_BYTES, parse_create_request


def parse(value: object) -> object:
    return parse_create_request(json.dumps(value).encode())


def problem(body: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_create_request(body)
    return caught.value


def test_minimal_body_takes_the_defaults() -> None:
    request = parse({"original_url": "https://example.com"})
    assert request.original_url == "https://example.com"
    assert request.custom_code is None and request.ttl_hours is None
    assert request.redirect_type == 301


def test_every_field() -> None:
    request = parse(
        {
            "original_url": "https://e.com",
            "custom_code": "promo",
            "ttl_hours": 24,
            "redirect_type": 307,
        }
    )
    assert (request.custom_code, request.ttl_hours, request.redirect_type) == ("promo", 24, 307)


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (b"", None, "invalid_json"),
        (b"{", None, "invalid_json"),
        (b"\xff\xfe", None, "invalid_json"),
        (b"[]", None, "not_an_object"),
        (b'"https://example.com"', None, "not_an_object"),
        (b"null", None, "not_an_object"),
        (b"{}", "original_url", "required"),
        (b'{"original_url": 5}', "original_url", "type"),
        (b'{"original_url": null}', "original_url", "type"),
        (b'{"original_url": "https://e.com", "extra": 1}', "extra", "unknown_field"),
        (b'{"original_url": "https://e.com", "ttl_hours": 0}', "ttl_hours", "out_of_range"),
        (b'{"original_url": "https://e.com", "ttl_hours": 87601}', "ttl_hours", "out_of_range"),
        (b'{"original_url": "https://e.com", "ttl_hours": 1.5}', "ttl_hours", "type"),
        (b'{"original_url": "https://e.com", "ttl_hours": 24.0}', "ttl_hours", "type"),
        (b'{"original_url": "https://e.com", "ttl_hours": "24"}', "ttl_hours", "type"),
        (b'{"original_url": "https://e.com", "ttl_hours": true}', "ttl_hours", "type"),
        (
            b'{"original_url": "https://e.com", "redirect_type": 303}',
            "redirect_type",
            "not_allowed",
        ),
        # The wrong JSON type is `type`, the right type refused is the rule's reason; a custom
        # code is `format` either way (docs/api.md section 4: malformed custom codes).
        (b'{"original_url": "https://e.com", "redirect_type": "301"}', "redirect_type", "type"),
        (b'{"original_url": "https://e.com", "redirect_type": 301.0}', "redirect_type", "type"),
        (b'{"original_url": "https://e.com", "redirect_type": true}', "redirect_type", "type"),
        (b'{"original_url": "https://e.com", "custom_code": 123}', "custom_code", "format"),
        (b'{"original_url": "https://e.com", "custom_code": ["ab1"]}', "custom_code", "format"),
        (b'{"original_url": "https://e.com", "custom_code": "ab"}', "custom_code", "format"),
        (b'{"original_url": "https://e.com", "custom_code": "a/b/c"}', "custom_code", "format"),
        (b'{"original_url": "https://e.com", "custom_code": "STATS"}', "custom_code", "reserved"),
        (b'{"original_url": "https://e.com", "ttl_hours": null}', "ttl_hours", "type"),
        (b'{"original_url": "https://e.com", "custom_code": null}', "custom_code", "type"),
        (b'{"original_url": "https://e.com", "redirect_type": null}', "redirect_type", "type"),
        (
            b'{"original_url": "https://e.com", "original_url": "https://x.com"}',
            "original_url",
            "duplicate_field",
        ),
    ],
)
def test_bad_bodies(body: bytes, field: str | None, reason: str) -> None:
    error = problem(body)
    assert error.code == "ValidationError" and error.status == 400
    assert error.details is not None
    assert error.details["reason"] == reason
    assert error.details.get("field") == field


def test_limits_are_inclusive() -> None:
    assert parse({"original_url": "https://e.com", "ttl_hours": 1}).ttl_hours == 1
    assert parse({"original_url": "https://e.com", "ttl_hours": 87600}).ttl_hours == 87600


@pytest.mark.parametrize("redirect_type", [301, 302, 307, 308])
def test_each_redirect_type(redirect_type: int) -> None:
    assert parse(
        {"original_url": "https://e.com", "redirect_type": redirect_type}
    ).redirect_type == (redirect_type)


def test_body_over_8_kib_is_too_large_even_when_valid_json() -> None:
    body = json.dumps({"original_url": "https://e.com/" + "a" * MAX_BODY_BYTES}).encode()
    with pytest.raises(PayloadTooLarge) as caught:
        parse_create_request(body)
    assert caught.value.status == 413
    exactly = b'{"original_url": "https://e.com/"}' + b" " * (MAX_BODY_BYTES - 34)
    assert len(exactly) == MAX_BODY_BYTES
    assert parse_create_request(exactly).original_url == "https://e.com/"

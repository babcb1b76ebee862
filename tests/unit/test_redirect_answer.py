"""docs/api.md section 2, GET /{code}: status, Location, Cache-Control, 404/410, negotiation."""

from __future__ import annotations

import json

import pytest

from shared.redirect.answer import Answer, Link, answer, prefers_html

NOW = 1_800_000_000.0
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def link(redirect_type: int = 301, expires_in: float | None = None, status: str = "active") -> Link:
    expires = None if expires_in is None else int(NOW + expires_in)
    return Link("https://example.com/a?b=c#d", redirect_type, status, expires)


@pytest.mark.parametrize("redirect_type", [301, 302, 307, 308])
def test_status_location_and_code(redirect_type: int) -> None:
    result = answer("abc123", link(redirect_type), NOW, None)
    assert result.status == redirect_type
    assert result.headers["Location"] == "https://example.com/a?b=c#d"
    assert result.headers["X-Short-Code"] == "abc123"
    assert result.is_redirect


@pytest.mark.parametrize(
    ("redirect_type", "expires_in", "cache_control"),
    [
        (301, None, "public, max-age=3600"),
        (308, None, "public, max-age=3600"),
        (301, 7200, "public, max-age=3600"),
        (301, 1800, "public, max-age=1800"),
        (308, 5, "public, max-age=5"),
        (302, None, "public, max-age=0, s-maxage=60"),
        (307, None, "public, max-age=0, s-maxage=60"),
        (302, 3600, "public, max-age=0, s-maxage=60"),
        (307, 30, "public, max-age=0, s-maxage=30"),
        (302, 1, "public, max-age=0, s-maxage=1"),
    ],
)
def test_cache_lifetime_never_outlives_the_link(
    redirect_type: int, expires_in: float | None, cache_control: str
) -> None:
    result = answer("abc", link(redirect_type, expires_in), NOW, None)
    assert result.headers["Cache-Control"] == cache_control


def test_unknown_code_is_404_cached_a_minute() -> None:
    result = answer("abc", None, NOW, "*/*")
    assert result.status == 404
    assert result.headers["Cache-Control"] == "public, max-age=60"
    assert json.loads(result.body) == {
        "error": "NotFound",
        "message": "No link has this short code.",
        "details": None,
    }
    assert "Location" not in result.headers


@pytest.mark.parametrize("expires_in", [0, -1, -86400])
def test_expired_is_410_even_before_ttl_deletes_it(expires_in: float) -> None:
    result = answer("abc", link(expires_in=expires_in), NOW, None)
    assert result.status == 410
    assert json.loads(result.body)["error"] == "Gone"


def test_disabled_is_410() -> None:
    result = answer("abc", link(status="disabled"), NOW, None)
    assert result.status == 410
    assert "disabled" in json.loads(result.body)["message"]


@pytest.mark.parametrize("found", [None, link(expires_in=-5)])
def test_browsers_get_an_html_page(found: Link | None) -> None:
    result: Answer = answer("abc", found, NOW, BROWSER)
    assert result.headers["Content-Type"] == "text/html; charset=utf-8"
    assert result.body.startswith("<!doctype html>")
    assert result.headers["Vary"] == "Accept"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html", True),
        (BROWSER, True),
        ("text/*", True),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.9, application/json", False),
        ("text/html, application/json;q=0.5", True),
        ("text/html;q=0, */*", False),
        ("TEXT/HTML", True),
    ],
)
def test_accept_negotiation(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html

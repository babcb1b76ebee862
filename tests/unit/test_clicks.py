"""What a click keeps (and drops) and how the redirect hands it off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.redirect import handler as redirect_module
from shared import settings
from shared.clicks import producer
from shared.clicks.events import (
    BOT,
    DESKTOP,
    DIRECT,
    MOBILE,
    OTHER,
    TABLET,
    UNKNOWN_COUNTRY,
    UNPARSABLE_REFERRER,
    ClickEvent,
    InvalidClick,
    device_class,
    referrer_domain,
    viewer_country,
)
from shared.clicks.producer import click_from_headers
from tests.unit.events import context, event

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (IPHONE, MOBILE),
        (ANDROID_PHONE, MOBILE),
        (IPAD, TABLET),
        (ANDROID_TABLET, TABLET),
        (WINDOWS, DESKTOP),
        (MAC, DESKTOP),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", DESKTOP),
        (GOOGLEBOT, BOT),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", BOT),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", BOT),
        ("curl/8.5.0", BOT),
        ("python-requests/2.32.3", BOT),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36", BOT),
        ("", BOT),
        (None, BOT),
        ("Roku/DVP-12.5 (12.5.0.4174-AE)", OTHER),
        # TVs, sticks and consoles name Linux, Android or Windows too; they are `other`.
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
            OTHER,
        ),
        (
            "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/108.0 Mobile Safari/537.36",
            OTHER,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
            OTHER,
        ),
        (
            "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0 Safari/537.36 CrKey/1.56.500000",
            OTHER,
        ),
        (
            "Mozilla/5.0 (Linux; Tizen 2.3; SAMSUNG SM-Z130H) AppleWebKit/537.3 (KHTML, like "
            "Gecko) SamsungBrowser/1.0 Mobile Safari/537.3",
            MOBILE,
        ),
    ],
)
def test_device_class(user_agent: str | None, device: str) -> None:
    assert device_class(user_agent) == device


@pytest.mark.parametrize(
    ("referer", "domain"),
    [
        ("https://News.Example.COM:8443/a/b?utm_source=x&email=me@x.com#frag", "news.example.com"),
        ("http://user:secret@blog.example.org/post", "blog.example.org"),
        ("https://www.google.com/", "www.google.com"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        (None, DIRECT),
        ("", DIRECT),
        ("not a url", UNPARSABLE_REFERRER),
        ("https://[::1/", UNPARSABLE_REFERRER),
        ("https://exa mple.com/", UNPARSABLE_REFERRER),
    ],
)
def test_referrer_keeps_the_host_only(referer: str | None, domain: str) -> None:
    assert referrer_domain(referer) == domain


@pytest.mark.parametrize(
    ("header", "country"),
    [
        ("DE", "DE"),
        ("us", "US"),
        (None, UNKNOWN_COUNTRY),
        ("XYZ", UNKNOWN_COUNTRY),
        ("", "unknown"),
    ],
)
def test_country_comes_from_cloudfront_or_is_unknown(header: str | None, country: str) -> None:
    assert viewer_country(header) == country


def test_an_event_carries_no_personal_data() -> None:
    headers = {
        "user-agent": IPHONE,
        "referer": "https://mail.example.net/inbox?user=alice@example.net",
        "cloudfront-viewer-country": "FR",
        "x-forwarded-for": "203.0.113.9",
        "cloudfront-viewer-address": "203.0.113.9:443",
    }
    line = click_from_headers("abc123", headers, 1_790_000_000.5).to_json()
    data = json.loads(line)
    assert set(data) == {
        "squrl_click",
        "id",
        "code",
        "ts",
        "referrer",
        "country",
        "device",
        "source",
    }
    assert data["referrer"] == "mail.example.net" and data["device"] == MOBILE
    assert data["country"] == "FR" and data["ts"] == 1_790_000_000_500
    for private in ("203.0.113.9", "iPhone", "alice", "inbox", "Safari"):
        assert private not in line


def test_an_event_survives_its_own_round_trip() -> None:
    original = click_from_headers("abc123", {"user-agent": MAC}, 1_790_000_000)
    assert ClickEvent.from_dict(json.loads(original.to_json())) == original
    assert original.day == "2026-09-21"


@pytest.mark.parametrize(
    "change",
    [
        {"code": "has space"},
        {"code": "stats#abc"},
        {"device": "fridge"},
        {"country": "Germany"},
        {"referrer": "evil.com/path"},
        {"ts": "soon"},
        {"squrl_click": 0},
    ],
)
def test_a_malformed_event_is_refused(change: dict[str, Any]) -> None:
    good = click_from_headers("abc123", {"user-agent": MAC}, 1_790_000_000).to_dict()
    with pytest.raises(InvalidClick):
        ClickEvent.from_dict({**good, **change})


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SQURL_CLICK_STREAM", "squrl-clicks-test")
    settings.settings.cache_clear()
    yield
    settings.settings.cache_clear()


def test_no_stream_configured_means_no_recorder() -> None:
    settings.settings.cache_clear()
    assert producer.recorder() is None


def test_the_recorder_writes_one_click_line(streaming: Any, capsys: Any) -> None:
    record = producer.recorder()
    assert record is not None
    record("abc123", {"user-agent": WINDOWS, "referer": "https://t.co/xyz"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["squrl_click"] == 1 and data["code"] == "abc123"
    assert data["device"] == DESKTOP and data["referrer"] == "t.co"


def test_requests_through_cloudfront_are_left_to_its_real_time_logs(
    streaming: Any, capsys: Any
) -> None:
    record = producer.recorder()
    assert record is not None
    record("abc123", {"user-agent": WINDOWS, "x-amz-cf-id": "abcdef=="})
    assert capsys.readouterr().out == ""


def test_the_local_sink_replaces_stdout(streaming: Any, capsys: Any) -> None:
    received: list[ClickEvent] = []
    producer.use_local_sink(received.append)
    try:
        record = producer.recorder()
        assert record is not None
        record("abc123", {"user-agent": IPAD})
    finally:
        producer.use_local_sink(None)
    assert [e.device for e in received] == [TABLET]
    assert capsys.readouterr().out == ""


def test_only_get_redirects_are_clicks(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redirect_module.redirector, "client", dynamodb)
    recorded: list[str] = []
    monkeypatch.setattr(
        redirect_module, "record_click", lambda code, headers: recorded.append(code)
    )
    dynamodb.put_item(
        TableName="squrl-urls-test",
        Item={
            "short_code": {"S": "abc123"},
            "original_url": {"S": "https://example.com/"},
            "status": {"S": "active"},
            "redirect_type": {"N": "302"},
        },
    )
    assert redirect_module.handler(event("GET", "/abc123"), context())["statusCode"] == 302
    assert redirect_module.handler(event("HEAD", "/abc123"), context())["statusCode"] == 302
    assert redirect_module.handler(event("GET", "/nothere"), context())["statusCode"] == 404
    assert recorded == ["abc123"]

"""Click analytics over HTTP: redirects become counts through the same consumer as in AWS."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 30
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1",
    "curl/8.5.0",
)

# (user agent, referrer, CloudFront country header): 20 people.
HUMANS = (
    [(IPHONE, "https://news.ycombinator.com/item?id=42", "US")] * 8
    + [(WINDOWS, "https://www.reddit.com/r/python/comments/x?utm_source=share", "DE")] * 7
    + [(IPAD, None, "JP")] * 3
    + [(WINDOWS, None, None)] * 2
)


def wait_for_stats(squrl: Any, code: str, humans: int, bots: int) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        response = squrl.request("GET", f"/urls/{code}/stats")
        assert response.status == 200, response.body
        body = response.json()
        if body["click_count"] >= humans and body["bot_clicks"] >= bots:
            return body
        assert time.monotonic() < deadline, f"stats did not arrive in time: {body}"
        time.sleep(0.25)


def test_human_clicks_bot_clicks_and_breakdowns(squrl: Any) -> None:
    created = squrl.create({"original_url": "https://example.com/launch", "redirect_type": 302})
    assert created.status == 201
    code = created.json()["short_code"]
    # Clicks are bucketed by the server's clock at redirect time; a run may straddle midnight UTC.
    day_before = datetime.now(UTC).strftime("%Y-%m-%d")

    for user_agent, referer, country in HUMANS:
        headers = {"User-Agent": user_agent}
        if referer:
            headers["Referer"] = referer
        if country:
            headers["CloudFront-Viewer-Country"] = country
        assert squrl.request("GET", f"/{code}", headers=headers, key=False).status == 302
    for _ in range(5):
        head = squrl.request("HEAD", f"/{code}", headers={"User-Agent": IPHONE}, key=False)
        assert head.status == 302
    for bot in BOTS:
        assert (
            squrl.request("GET", f"/{code}", headers={"User-Agent": bot}, key=False).status == 302
        )
    # Not clicks either: answers that are not redirects.
    assert (
        squrl.request("GET", "/nosuchcode1", headers={"User-Agent": IPHONE}, key=False).status
        == 404
    )

    body = wait_for_stats(squrl, code, humans=20, bots=3)
    # A moment more, so that anything counted twice would show.
    time.sleep(1.0)
    body = squrl.request("GET", f"/urls/{code}/stats").json()
    day_after = datetime.now(UTC).strftime("%Y-%m-%d")
    daily = body.pop("daily")
    assert sum(day["clicks"] for day in daily) == 20
    assert {day["date"] for day in daily} <= {day_before, day_after}
    assert body == {
        "short_code": code,
        "click_count": 20,
        "bot_clicks": 3,
        "referrers": [
            {"domain": "news.ycombinator.com", "clicks": 8},
            {"domain": "www.reddit.com", "clicks": 7},
            {"domain": "(direct)", "clicks": 5},
        ],
        "countries": [
            {"country": "US", "clicks": 8},
            {"country": "DE", "clicks": 7},
            {"country": "JP", "clicks": 3},
            {"country": "unknown", "clicks": 2},
        ],
        "devices": [
            {"device": "desktop", "clicks": 9},
            {"device": "mobile", "clicks": 8},
            {"device": "tablet", "clicks": 3},
        ],
    }
    link = squrl.request("GET", f"/urls/{code}").json()
    assert link["click_count"] == 20


def test_stats_need_the_api_key_and_an_existing_link(squrl: Any) -> None:
    code = squrl.create({"original_url": "https://example.com/private-stats"}).json()["short_code"]
    assert squrl.request("GET", f"/urls/{code}/stats", key=False).status == 403
    assert squrl.request("GET", f"/urls/{code}/stats", key="wrong").status == 403
    missing = squrl.request("GET", "/urls/nosuchcode2/stats")
    assert missing.status == 404 and missing.json()["error"] == "NotFound"
    fresh = squrl.request("GET", f"/urls/{code}/stats").json()
    assert fresh["click_count"] == 0 and fresh["bot_clicks"] == 0 and fresh["daily"] == []

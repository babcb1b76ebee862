"""GET /urls/{code}/stats through the get_url handler, against moto."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.get_url import handler as get_module
from shared.clicks.counter import ClickCounter, StreamRecord
from shared.clicks.events import click_event
from shared.contracts import table
from tests.unit.events import context, event
from tests.unit.test_click_consumer import TABLE, put_link

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def moto_client(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_module, "dynamodb", lambda region: dynamodb)


def get_stats(code: str, owner: str = "owner-1") -> tuple[int, dict[str, Any]]:
    response = get_module.handler(event("GET", f"/urls/{code}/stats", owner=owner), context())
    return response["statusCode"], json.loads(response["body"])


def count(dynamodb: Any, *events: Any) -> None:
    records = [StreamRecord(str(100 + i), e.to_json().encode()) for i, e in enumerate(events)]
    ClickCounter(dynamodb, TABLE, list, time.time).count("s", "shardId-1", records)


def test_the_owner_sees_counts_and_breakdowns(dynamodb: Any) -> None:
    put_link(dynamodb, "abc123")
    day = 1_790_000_000_000
    count(
        dynamodb,
        click_event("abc123", user_agent=PHONE, referer="https://t.co/x", country="BR", ts_ms=day),
        click_event("abc123", user_agent=PHONE, referer=None, country="BR", ts_ms=day + 86_400_000),
        click_event("abc123", user_agent="Googlebot/2.1", referer=None, country="US", ts_ms=day),
    )
    status, body = get_stats("abc123")
    assert status == 200
    assert body == {
        "short_code": "abc123",
        "click_count": 2,
        "bot_clicks": 1,
        "daily": [{"date": "2026-09-21", "clicks": 1}, {"date": "2026-09-22", "clicks": 1}],
        "referrers": [{"domain": "(direct)", "clicks": 1}, {"domain": "t.co", "clicks": 1}],
        "countries": [{"country": "BR", "clicks": 2}],
        "devices": [{"device": "mobile", "clicks": 2}],
    }
    link = get_module.handler(event("GET", "/urls/abc123"), context())
    assert json.loads(link["body"])["click_count"] == 2


@pytest.mark.parametrize(
    ("code", "owner"),
    [("abc123", "owner-2"), ("nothere", "owner-1"), ("stats#abc123", "owner-1")],
)
def test_stats_of_a_missing_or_foreign_link_are_not_found(
    dynamodb: Any, code: str, owner: str
) -> None:
    put_link(dynamodb, "abc123")
    count(dynamodb, click_event("abc123", user_agent=PHONE, referer=None, country=None, ts_ms=1))
    status, body = get_stats(code.replace("#", "%23"), owner=owner)
    assert status == 404 and body["error"] == "NotFound"


def test_a_link_without_clicks_has_empty_stats(dynamodb: Any) -> None:
    put_link(dynamodb, "quiet1")
    assert get_stats("quiet1")[1] == {
        "short_code": "quiet1",
        "click_count": 0,
        "bot_clicks": 0,
        "daily": [],
        "referrers": [],
        "countries": [],
        "devices": [],
    }
    assert table.stats_key("quiet1") == "stats#quiet1"

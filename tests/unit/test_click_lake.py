"""The Firehose transformation that fills the data lake with sanitized clicks."""

from __future__ import annotations

import base64
import gzip
import json

from devserver.click_stream import log_subscription_record
from functions.click_lake import handler as lake
from shared.clicks import click_from_headers
from tests.unit.events import context

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"


def firehose_event(*payloads: bytes) -> dict:
    return {
        "records": [
            {"recordId": f"r{i}", "data": base64.b64encode(data).decode()}
            for i, data in enumerate(payloads)
        ]
    }


def test_records_become_json_lines_with_only_the_sanitized_fields() -> None:
    headers = {
        "user-agent": IPHONE,
        "referer": "https://t.co/abc?x=1",
        "x-forwarded-for": "1.2.3.4",
    }
    clicks = [click_from_headers("abc123", headers, 1_790_000_000.25) for _ in range(2)]
    bot = click_from_headers("abc123", {"user-agent": "curl/8.5.0"}, 1_790_000_001)
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": []}
    response = lake.handler(
        firehose_event(
            log_subscription_record(clicks, "g"),
            bot.to_json().encode(),
            gzip.compress(json.dumps(control).encode()),
            b"\x00 unreadable",
        ),
        context("click_lake"),
    )
    results = {r["recordId"]: r for r in response["records"]}
    assert [results[f"r{i}"]["result"] for i in range(4)] == [
        "Ok",
        "Ok",
        "Dropped",
        "ProcessingFailed",
    ]
    lines = base64.b64decode(results["r0"]["data"]).decode().splitlines()
    assert len(lines) == 2
    row = json.loads(lines[0])
    assert row == {
        "event_id": clicks[0].id,
        "short_code": "abc123",
        "clicked_at": "2026-09-21T14:13:20.250Z",
        "click_date": "2026-09-21",
        "referrer_domain": "t.co",
        "country": "unknown",
        "device": "mobile",
        "is_bot": False,
        "source": "regional",
    }
    assert json.loads(base64.b64decode(results["r1"]["data"]))["is_bot"] is True
    for result in response["records"][:2]:
        text = base64.b64decode(result["data"]).decode()
        assert "1.2.3.4" not in text and "iPhone" not in text and "x=1" not in text

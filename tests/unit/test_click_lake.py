"""The Firehose transformation that fills the data lake with sanitized clicks."""

from __future__ import annotations

import base64
import gzip
import io
import json
from typing import Any

import pytest

from devserver.click_stream import log_subscription_record
from functions.click_lake import handler as lake
from shared.clicks.producer import click_from_headers
from tests.unit.events import context
from tests.unit.test_click_records import PERSONAL, PERSONAL_POISON

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"


def firehose_event(*payloads: bytes) -> dict:
    """What Firehose sends for a Kinesis stream source: each record with its place in the stream."""
    return {
        "records": [
            {
                "recordId": f"r{i}",
                "approximateArrivalTimestamp": 1_790_000_000_000 + i,
                "data": base64.b64encode(data).decode(),
                "kinesisRecordMetadata": {
                    "shardId": "shardId-000000000003",
                    "partitionKey": "p",
                    "approximateArrivalTimestamp": 1_790_000_000_000 + i,
                    "sequenceNumber": f"4959{i:04d}",
                    "subsequenceNumber": 0,
                },
            }
            for i, data in enumerate(payloads)
        ]
    }


class Emitted:
    """The transform's log lines and EMF metrics, as CloudWatch Logs would receive them."""

    def __init__(self, logs: io.StringIO, capsys: pytest.CaptureFixture[str]):
        self._logs = logs
        self._capsys = capsys

    def log_text(self) -> str:
        return self._logs.getvalue()

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines()]

    def metric(self, name: str) -> list[float]:
        """The values of one metric in the Squrl namespace (the one every squrl function uses)."""
        blobs = [json.loads(line) for line in self._capsys.readouterr().out.splitlines()]
        [blob] = [blob for blob in blobs if "_aws" in blob and name in blob]
        [directive] = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Squrl"
        assert {"Name": name, "Unit": "Count"} in directive["Metrics"]
        value = blob[name]
        return value if isinstance(value, list) else [value]


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Emitted:
    logs = io.StringIO()
    monkeypatch.setattr(lake.logger.registered_handler, "stream", logs)
    # The suite turns EMF output off; this test reads it.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    lake.metrics.clear_metrics()
    capsys.readouterr()
    return Emitted(logs, capsys)


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
    assert [results[f"r{i}"]["result"] for i in range(4)] == ["Ok", "Ok", "Dropped", "Dropped"]
    assert results["r3"]["data"] == ""
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


def test_an_unreadable_record_is_dropped_counted_and_logged_without_its_contents(
    emitted: Emitted,
) -> None:
    # Firehose writes a ProcessingFailed record as it arrived under errors/, user agent and all.
    names = list(PERSONAL_POISON)
    readable = click_from_headers("abc123", {"user-agent": IPHONE}, 1_790_000_000).to_json()
    response = lake.handler(
        firehose_event(readable.encode(), *PERSONAL_POISON.values()), context("click_lake")
    )
    [ok, *dropped] = response["records"]
    assert ok["result"] == "Ok"
    assert [(r["result"], r["data"]) for r in dropped] == [("Dropped", "")] * len(names)
    assert emitted.metric("LakeRecordsDropped") == [len(names)]
    lines = [line for line in emitted.log_lines() if line["message"] == "unreadable record dropped"]
    assert [line["record_id"] for line in lines] == [r["recordId"] for r in dropped]
    first = lines[0]
    assert first["shard_id"] == "shardId-000000000003" and first["sequence_number"] == "49590001"
    assert first["reason"] == "an edge log line has 10 fields, not 9"
    written = json.dumps(response) + emitted.log_text()
    assert not [marker for marker in PERSONAL if marker in written]


def test_a_record_that_breaks_the_decoder_is_dropped_and_logged_by_type_and_frames(
    emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes) -> list[Any]:
        raise KeyError(data.decode())  # a message that quotes the record

    monkeypatch.setattr(lake, "decode_record", broken)
    payload = f"GET /abc123 {IPHONE} https://news.example.com/item?id=7".encode()
    response = lake.handler(firehose_event(payload), context("click_lake"))
    assert response["records"] == [{"recordId": "r0", "result": "Dropped", "data": ""}]
    assert emitted.metric("LakeRecordsDropped") == [1]
    [line] = [line for line in emitted.log_lines() if line["level"] == "ERROR"]
    assert line["reason"] == "decoding failed: KeyError" and line["record_id"] == "r0"
    assert "handler.py" in line["frames"]
    assert not [marker for marker in PERSONAL if marker in emitted.log_text()]


def test_a_batch_of_clicks_reports_no_drops(emitted: Emitted) -> None:
    click = click_from_headers("abc123", {"user-agent": IPHONE}, 1_790_000_000)
    response = lake.handler(firehose_event(click.to_json().encode()), context("click_lake"))
    assert [r["result"] for r in response["records"]] == ["Ok"]
    assert emitted.metric("LakeRecordsDropped") == [0]

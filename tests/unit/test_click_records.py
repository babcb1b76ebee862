"""Reading the click stream's two record shapes: log subscriptions and CloudFront real-time logs."""

from __future__ import annotations

import gzip
import json

import pytest

from devserver.click_stream import log_subscription_record
from shared.clicks.events import BOT, DIRECT, MOBILE
from shared.clicks.producer import click_from_headers
from shared.clicks.records import PoisonRecord, decode_record, error_frames, unreadable_reason

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
# The order is the edge's to choose; the decoder takes it as given.
FIELDS = (
    "timestamp",
    "c-ip",
    "cs-method",
    "cs-uri-stem",
    "sc-status",
    "cs-referer",
    "cs-user-agent",
    "x-edge-request-id",
    "c-country",
)


def edge_line(**values: str) -> str:
    row = {
        "timestamp": "1790000000.123",
        "c-ip": "203.0.113.9",
        "cs-method": "GET",
        "cs-uri-stem": "/abc123",
        "sc-status": "301",
        "cs-referer": "https://news.example.com/item?id=7",
        "cs-user-agent": IPHONE.replace(" ", "%20"),
        "x-edge-request-id": "req-1",
        "c-country": "JP",
        **values,
    }
    return "\t".join(row[name] for name in FIELDS)


# What a person leaves in a record: none of it may reach a reason, a log line or a queue.
PERSONAL = ("iPhone", "Mobile/15E148", "news.example.com/item", "id=7", "203.0.113.9")
PERSONAL_REFERER = "https://news.example.com/item?id=7"


def real_edge_line(**values: str) -> str:
    """A line in the edge stack's own field order, as the consumer and the lake read it."""
    from shared.contracts.edge_log_fields import FIELDS as EDGE_FIELDS

    row = {
        "timestamp": "1790000000.5",
        "sc-status": "302",
        "cs-method": "GET",
        "cs-uri-stem": "/abc123",
        "x-edge-request-id": "req-9",
        "cs-user-agent": IPHONE.replace(" ", "%20"),
        "cs-referer": PERSONAL_REFERER.replace(":", "%3A").replace("/", "%2F"),
        "c-country": "JP",
        **values,
    }
    return "\t".join(row.get(name, "-") for name in EDGE_FIELDS)


def _click_json(**values: object) -> bytes:
    click = {
        "squrl_click": 1,
        "id": "c-1",
        "code": "abc123",
        "ts": 1_790_000_000_000,
        "referrer": "t.co",
        "country": "JP",
        "device": "mobile",
        **values,
    }
    return json.dumps(click).encode()


def _envelope(message: str) -> bytes:
    envelope = {"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": message}]}
    return gzip.compress(json.dumps(envelope).encode(), mtime=0)


# Records the decoder refuses that still carry a user agent, a referrer query or an address.
PERSONAL_POISON = {
    "edge-extra-field": (real_edge_line() + "\t203.0.113.9").encode(),
    "edge-bad-timestamp": real_edge_line(timestamp="soon").encode(),
    "edge-infinite-timestamp": real_edge_line(timestamp="inf").encode(),
    "click-ts-is-a-user-agent": _click_json(ts=IPHONE),
    "click-id-is-an-object": _click_json(id={"ua": IPHONE}, ts=[PERSONAL_REFERER]),
    "click-with-a-full-referrer": _click_json(referrer=PERSONAL_REFERER),
    "click-with-an-address-for-a-country": _click_json(country="203.0.113.9"),
    "log-line-not-a-click": _envelope(f"203.0.113.9 GET /abc123 {PERSONAL_REFERER} {IPHONE}"),
    "truncated-gzip": _envelope(f'{{"squrl_click":1,"ua":"{IPHONE}"}}')[:-12],
    "not-utf8": IPHONE.encode() + b"\xff\xfe " + PERSONAL_REFERER.encode(),
}


@pytest.mark.parametrize("name", PERSONAL_POISON)
def test_a_poison_reason_never_quotes_the_record(name: str) -> None:
    with pytest.raises(PoisonRecord) as raised:
        decode_record(PERSONAL_POISON[name])
    reason = unreadable_reason(raised.value)
    assert reason == str(raised.value) and reason
    assert not [marker for marker in PERSONAL if marker in reason]


def test_any_other_decoder_failure_is_described_by_its_type_and_frames_only() -> None:
    # A message quoting the record, as a library's exception may.
    message = f"cannot parse {IPHONE} from {PERSONAL_REFERER}"
    try:
        raise ValueError(message)
    except ValueError as error:
        reason, frames = unreadable_reason(error), error_frames(error)
    assert reason == "decoding failed: ValueError"
    assert "test_click_records.py" in frames
    assert not [marker for marker in PERSONAL if marker in reason + frames]


def test_a_log_subscription_record_holds_many_clicks() -> None:
    events = [click_from_headers(code, {"user-agent": IPHONE}, 1_790_000_000) for code in "abc"]
    record = log_subscription_record(events, "/aws/lambda/redirect")
    assert decode_record(record) == events


def test_a_runtime_prefix_before_the_click_line_is_ignored() -> None:
    event = click_from_headers("abc123", {}, 1_790_000_000)
    envelope = {
        "messageType": "DATA_MESSAGE",
        "logEvents": [
            {"id": "1", "timestamp": 0, "message": "2026-11-23T12:00:00Z\t" + event.to_json()}
        ],
    }
    assert decode_record(gzip.compress(json.dumps(envelope).encode())) == [event]


def test_a_control_message_holds_no_clicks() -> None:
    envelope = {"messageType": "CONTROL_MESSAGE", "logEvents": [{"message": "CWL CONTROL"}]}
    assert decode_record(gzip.compress(json.dumps(envelope).encode())) == []


def test_an_edge_line_becomes_a_click_without_ip_or_user_agent() -> None:
    [event] = decode_record(edge_line().encode(), FIELDS)
    assert event.code == "abc123" and event.source == "edge" and event.id == "req-1"
    assert event.ts == 1_790_000_000_123
    assert event.referrer == "news.example.com" and event.country == "JP"
    assert event.device == MOBILE
    assert "203.0.113.9" not in event.to_json() and "iPhone" not in event.to_json()


def test_edge_lines_that_are_not_clicks_are_skipped() -> None:
    lines = [
        edge_line(**{"cs-method": "HEAD"}),
        edge_line(**{"sc-status": "404"}),
        edge_line(**{"sc-status": "200", "cs-uri-stem": "/urls"}),
        edge_line(**{"cs-uri-stem": "/urls/abc123/stats"}),
        edge_line(**{"cs-user-agent": "Googlebot/2.1", "cs-referer": "-", "c-country": "-"}),
    ]
    [bot] = decode_record("\n".join(lines).encode(), FIELDS)
    assert bot.device == BOT and bot.referrer == DIRECT and bot.country == "unknown"


@pytest.mark.parametrize("stem", ["/%50e123", "/%2550e123", "/Pe123", "/%50e123?utm_source=x"])
def test_an_edge_click_on_a_percent_encoded_code_counts_for_the_code(stem: str) -> None:
    # The edge handler decodes the path before it looks the code up, so `/%50e123` redirects as
    # `Pe123`; the log line must count for the same code, whether or not the log escapes `%`.
    [event] = decode_record(edge_line(**{"cs-uri-stem": stem}).encode(), FIELDS)
    assert event.code == "Pe123"


@pytest.mark.parametrize(
    "data",
    [
        b"\x1f\x8b not really gzip",
        gzip.compress(b"[1, 2]", mtime=0),
        gzip.compress(
            json.dumps({"messageType": "DATA_MESSAGE", "logEvents": [{"message": "hi"}]}).encode(),
            mtime=0,
        ),
        b'{"squrl_click": 1, "code": "abc"}',
        b'{"not": "a click"}',
        b"\xff\xfe\xfa",
        b"a\tline\twith\ttoo few fields",
        edge_line(timestamp="yesterday").encode(),
    ],
    ids=[
        "broken-gzip",
        "gzip-not-an-envelope",
        "log-line-not-a-click",
        "click-missing-fields",
        "json-not-a-click",
        "not-utf8",
        "wrong-field-count",
        "edge-bad-timestamp",
    ],
)
def test_unreadable_records_are_poison(data: bytes) -> None:
    with pytest.raises(PoisonRecord):
        decode_record(data, FIELDS)


def test_the_edge_stacks_own_field_list_is_read_by_default() -> None:
    from shared.contracts.edge_log_fields import FIELDS as EDGE_FIELDS

    row = {
        "timestamp": "1790000000.5",
        "sc-status": "302",
        "cs-method": "GET",
        "cs-uri-stem": "/abc123?utm_source=newsletter",
        "x-edge-location": "FRA56-P1",
        "x-edge-request-id": "abcDEF123==",
        "cs-user-agent": IPHONE.replace(" ", "%20"),
        "cs-referer": "https://www.example.org/page?q=1",
        "c-country": "FR",
    }
    line = "\t".join(row.get(name, "-") for name in EDGE_FIELDS)
    [event] = decode_record(line.encode())
    assert (event.code, event.referrer, event.country, event.device) == (
        "abc123",
        "www.example.org",
        "FR",
        MOBILE,
    )
    assert "utm_source" not in event.to_json() and "FRA56" not in event.to_json()


def test_an_edge_field_list_without_the_needed_fields_is_refused() -> None:
    with pytest.raises(PoisonRecord, match="c-country"):
        decode_record(edge_line().encode(), tuple(f for f in FIELDS if f != "c-country"))

"""Turn one click-stream record into click events.

Two producers write to the stream, in two shapes:
- CloudWatch Logs subscriptions (the regional redirect's click lines): a gzip-compressed JSON
  envelope holding many log events, each one a click line written by shared.clicks.producer;
- CloudFront real-time logs (edge redirects, cache hits included): one tab-separated line per
  request, its fields in the order shared.contracts.edge_log_fields declares.
A record may also hold one bare click JSON object, which is what any other producer would send.

Requests that are not clicks (HEAD, errors, non-redirects, paths that are not a short code) are
skipped. A record that cannot be read at all raises PoisonRecord: the consumer sets it aside in
the dead-letter queue and counts the rest of its batch.

A record holds user agents and referrers until it is decoded, so nothing about an unreadable
record may be stored or logged but metadata: a PoisonRecord's message is fixed text and counts,
never a quote of the record, and `unreadable_reason` and `error_frames` describe any other
failure the same way (docs/analytics.md, "Poison records").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import traceback
from collections.abc import Sequence
from urllib.parse import unquote

from shared.clicks.events import ClickEvent, InvalidClick, click_event
from shared.contracts.clicks import MARKER
from shared.contracts.codes import code_from_path, is_possible_code
from shared.contracts.http import REDIRECT_STATUSES as HTTP_REDIRECT_STATUSES

REDIRECT_STATUSES = frozenset(str(status) for status in HTTP_REDIRECT_STATUSES)
_GZIP_MAGIC = b"\x1f\x8b"
_MISSING = "-"

# The real-time log fields a click needs; the edge's field list must include them.
EDGE_REQUIRED_FIELDS = (
    "timestamp",
    "cs-method",
    "sc-status",
    "cs-uri-stem",
    "cs-user-agent",
    "cs-referer",
    "c-country",
)


class PoisonRecord(ValueError):
    """A record no retry can make readable. Its message never quotes the record."""


def unreadable_reason(error: BaseException) -> str:
    """Why a record could not be read, in words that never quote the record.

    A PoisonRecord's message is written that way; any other exception's message may quote what
    it choked on (a user agent, a referrer), so only its type is named.
    """
    if isinstance(error, PoisonRecord):
        return str(error)
    return f"decoding failed: {type(error).__name__}"


def error_frames(error: BaseException) -> str:
    """Where the code broke: file, line and source of each frame, without the message or values."""
    return "".join(traceback.format_tb(error.__traceback__))


def edge_fields() -> tuple[str, ...]:
    """The real-time log configuration's field order (shared.contracts.edge_log_fields)."""
    from shared.contracts.edge_log_fields import FIELDS

    return tuple(FIELDS)


def decode_record(data: bytes, fields: Sequence[str] | None = None) -> list[ClickEvent]:
    """The clicks in one record (possibly none). Raises PoisonRecord when it cannot be read."""
    if data.startswith(_GZIP_MAGIC):
        return _from_log_subscription(data)
    text = _text(data)
    if text.lstrip().startswith("{"):
        return [_from_json(text)]
    return _from_edge_lines(text, edge_fields() if fields is None else fields)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PoisonRecord("the record is neither gzip nor UTF-8 text") from None


def _from_json(text: str) -> ClickEvent:
    try:
        return ClickEvent.from_dict(json.loads(text))
    except (ValueError, InvalidClick) as error:
        raise PoisonRecord(f"unreadable click event: {_describe(error)}") from None


def _from_log_subscription(data: bytes) -> list[ClickEvent]:
    try:
        envelope = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError) as error:
        raise PoisonRecord(f"unreadable log subscription record: {_describe(error)}") from None
    if not isinstance(envelope, dict):
        raise PoisonRecord("the log subscription record is not an object")
    # CloudWatch Logs checks that it can reach the stream with a control message.
    if envelope.get("messageType") == "CONTROL_MESSAGE":
        return []
    log_events = envelope.get("logEvents")
    if envelope.get("messageType") != "DATA_MESSAGE" or not isinstance(log_events, list):
        raise PoisonRecord("the log subscription record has no log events")
    events = []
    for log_event in log_events:
        message = log_event.get("message", "") if isinstance(log_event, dict) else ""
        # Only click lines pass the subscription filter; a runtime may prefix a line with its
        # own fields, so the click object starts at the first brace.
        start = message.find("{")
        if start < 0 or MARKER not in message:
            raise PoisonRecord("a log event is not a click line")
        events.append(_from_json(message[start:]))
    return events


def _from_edge_lines(text: str, fields: Sequence[str]) -> list[ClickEvent]:
    missing = [name for name in EDGE_REQUIRED_FIELDS if name not in fields]
    if missing:
        raise PoisonRecord(f"the edge log field list lacks {missing}")
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(fields):
            raise PoisonRecord(f"an edge log line has {len(values)} fields, not {len(fields)}")
        row = dict(zip(fields, values, strict=True))
        event = _edge_click(row, line)
        if event is not None:
            events.append(event)
    return events


def _edge_click(row: dict[str, str], line: str) -> ClickEvent | None:
    if row["cs-method"] != "GET" or row["sc-status"] not in REDIRECT_STATUSES:
        return None
    # The stem carries the query string when there is one (shared/contracts/edge_log_fields.py),
    # and the path as the viewer sent it: `/%50e1` is the code `Pe1`, decoded by the same
    # code_from_path as the edge handler's. A code never holds `%`, so one left after decoding is
    # the log's own escaping of it.
    path = row["cs-uri-stem"].split("?", 1)[0]
    code = code_from_path(path if path.startswith("/") else "/" + path)
    if "%" in code:
        code = code_from_path("/" + code)
    if not is_possible_code(code):
        return None
    try:
        ts_ms = int(float(row["timestamp"]) * 1000)
    except (ValueError, OverflowError):
        raise PoisonRecord("an edge log line has no readable timestamp") from None
    request_id = row.get("x-edge-request-id", _MISSING)
    # CloudFront may deliver a log line twice; its request id (or the line itself) makes the
    # copies one click within a batch.
    event_id = (
        request_id
        if request_id != _MISSING
        else hashlib.sha256(line.encode("utf-8")).hexdigest()[:32]
    )
    try:
        event = click_event(
            code,
            # Real-time logs percent-encode the user agent and the referrer.
            user_agent=_field(row["cs-user-agent"]),
            referer=_field(row["cs-referer"]),
            country=_field(row["c-country"]),
            ts_ms=ts_ms,
            event_id=event_id[:128],
            source="edge",
        )
        event.validate()
    except InvalidClick as error:
        raise PoisonRecord(f"an edge log line is not a click: {error}") from None
    return event


def _describe(error: Exception) -> str:
    # InvalidClick messages are fixed text; a JSON error's `msg` is too (its position aside).
    # Other messages may quote the bytes they failed on, so only their type is named.
    if isinstance(error, InvalidClick):
        return str(error)
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    return type(error).__name__


def _field(value: str) -> str | None:
    return None if value in ("", _MISSING) else unquote(value)

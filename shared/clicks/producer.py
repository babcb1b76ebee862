"""How the regional redirect hands a click off.

Each click is one JSON line on stdout. Lambda's runtime ships stdout to CloudWatch Logs after the
fact, and a subscription filter (shared.contracts.clicks's pattern) forwards the lines to the
click stream, so the response path pays for one small `write` and nothing is held in the
function's memory when Lambda freezes or retires the environment (docs/analytics.md weighs this
against a background PutRecords thread).

Standard library only: the redirect imports this module on the hot path.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping

from shared.clicks.events import ClickEvent, click_event
from shared.settings import settings

ClickRecorder = Callable[[str, Mapping[str, str]], None]
ClickSink = Callable[[ClickEvent], None]


def click_from_headers(code: str, headers: Mapping[str, str], now: float) -> ClickEvent:
    """The click a redirect answered, from its lowercased request headers."""
    return click_event(
        code,
        user_agent=headers.get("user-agent"),
        referer=headers.get("referer"),
        country=headers.get("cloudfront-viewer-country"),
        ts_ms=int(now * 1000),
    )


def log_line_sink(event: ClickEvent) -> None:
    # One write of a ~200-byte line; Lambda's runtime forwards stdout to CloudWatch Logs
    # asynchronously, so this neither waits on the network nor buffers clicks in memory.
    sys.stdout.write(event.to_json() + "\n")


_local_sink: ClickSink | None = None


def use_local_sink(sink: ClickSink | None) -> None:
    """Send clicks to `sink` instead of stdout (the local server's in-process stream)."""
    global _local_sink
    _local_sink = sink


def recorder() -> ClickRecorder | None:
    """The redirect's click hand-off, or None when click streaming is off (no SQURL_CLICK_STREAM).

    A request that came through squrl's CloudFront distribution (it carries `X-Amz-Cf-Id`) is
    not recorded here: CloudFront's real-time logs already count every click it serves,
    including those it forwards to this regional origin.
    """
    if not settings().click_stream:
        return None

    def record(code: str, headers: Mapping[str, str]) -> None:
        if "x-amz-cf-id" in headers:
            return
        (_local_sink or log_line_sink)(click_from_headers(code, headers, time.time()))

    return record

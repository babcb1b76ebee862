"""The local server's stand-ins for CloudFront real-time logs and the stream."""

from __future__ import annotations

from typing import Any

from devserver import click_stream, edge
from devserver.lambda_shapes import ProxyResult
from shared.clicks.events import TABLET
from shared.clicks.records import decode_record

IPAD = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"


def test_a_local_edge_log_line_reads_as_the_click_cloudfront_would_log() -> None:
    headers = {
        "User-Agent": IPAD,
        "Referer": "https://forum.example.net/t/1?page=2",
        "CloudFront-Viewer-Country": "NL",
    }
    line = click_stream.edge_log_line("GET", "/abc123", 301, headers, 1_790_000_000.25)
    assert "\n" not in line
    [event] = decode_record(line.encode())
    assert (event.code, event.ts, event.source) == ("abc123", 1_790_000_000_250, "edge")
    assert (event.referrer, event.country, event.device) == ("forum.example.net", "NL", TABLET)
    head = click_stream.edge_log_line("HEAD", "/abc123", 301, headers, 1_790_000_000.25)
    assert decode_record(head.encode()) == []


def test_local_cloudfront_logs_every_answer_and_marks_origin_requests() -> None:
    logged: list[tuple[str, str, int]] = []
    origin_headers: list[dict[str, str]] = []

    def origin(method: str, uri: str, headers: dict[str, str], ip: str) -> ProxyResult:
        origin_headers.append(headers)
        return ProxyResult(302, {"Location": "https://example.com/"}, b"")

    def edge_function(event: dict[str, Any]) -> dict[str, Any]:
        record = event["Records"][0]["cf"]
        if "response" in record:
            return record["response"]
        return record["request"]  # the edge read failed: on to the origin

    cloudfront = edge.LocalCloudFront(
        origin, edge_function, on_answer=lambda m, uri, status, _: logged.append((m, uri, status))
    )
    answer = cloudfront.handle("GET", "/abc123", {"Accept": "*/*", "User-Agent": IPAD}, "::1")
    assert answer.status == 302
    assert logged == [("GET", "/abc123", 302)]
    # As CloudFront does: the regional recorder sees the mark and leaves the click to the logs.
    [sent] = origin_headers
    assert "X-Amz-Cf-Id" in sent and "User-Agent" not in sent

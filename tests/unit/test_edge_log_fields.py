"""The real-time log field list shared by the edge stack and the click consumer."""

from __future__ import annotations

import pytest

from shared.contracts.edge_log_fields import (
    CLOUDFRONT_FIELD_ORDER,
    FIELDS,
    FORBIDDEN_FIELDS,
    parse_record,
)
from shared.contracts.names import edge_log_stream_name


def test_fields_follow_cloudfronts_own_order() -> None:
    # CloudFront writes fields in its documented order, not in the configuration's order.
    positions = [CLOUDFRONT_FIELD_ORDER.index(name) for name in FIELDS]
    assert positions == sorted(positions)
    assert len(set(FIELDS)) == len(FIELDS)


def test_no_field_identifies_a_viewer() -> None:
    assert not FORBIDDEN_FIELDS & set(FIELDS)
    assert "c-ip" not in FIELDS


def test_the_click_consumer_finds_every_field_it_needs() -> None:
    from shared.clicks.records import EDGE_REQUIRED_FIELDS

    assert set(EDGE_REQUIRED_FIELDS) <= set(FIELDS)


def test_parse_record() -> None:
    line = "\t".join(
        [
            "1767225600.123",
            "301",
            "GET",
            "/abc123",
            "FRA56-P1",
            "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
            "Mozilla/5.0%20(X11;%20Linux%20x86_64)",
            "https://news.example.com/item",
            "DE",
        ]
    )
    row = parse_record(line + "\n")
    assert row["cs-uri-stem"] == "/abc123"
    assert row["c-country"] == "DE"
    with pytest.raises(ValueError):
        parse_record("1767225600.123\t301")


def test_stream_name() -> None:
    assert edge_log_stream_name("prod") == "squrl-prod-edge-requests"

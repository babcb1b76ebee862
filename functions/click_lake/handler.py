"""Firehose transformation: click-stream records become JSON lines for the S3 data lake.

The same decoder as the counting consumer, so the lake holds exactly the sanitized click
fields (no IP address, no user agent) whichever producer wrote the record.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.click_records import PoisonRecord, decode_record
from shared.clicks import ClickEvent

logger = Logger()


def lake_row(event: ClickEvent) -> str:
    """One line of the Glue table's JSON (column order as in the analytics stack's table)."""
    clicked_at = datetime.fromtimestamp(event.ts / 1000, UTC).isoformat(timespec="milliseconds")
    return json.dumps(
        {
            "event_id": event.id,
            "short_code": event.code,
            "clicked_at": clicked_at.replace("+00:00", "Z"),
            "click_date": event.day,
            "referrer_domain": event.referrer,
            "country": event.country,
            "device": event.device,
            "is_bot": event.is_bot,
            "source": event.source,
        },
        separators=(",", ":"),
    )


def transform(data: bytes) -> tuple[str, bytes]:
    """Firehose's result for one record and the bytes it writes."""
    try:
        events = decode_record(data)
    except PoisonRecord as error:
        logger.warning("record not readable", extra={"reason": str(error)})
        return "ProcessingFailed", data
    if not events:
        return "Dropped", b""
    return "Ok", "".join(lake_row(event) + "\n" for event in events).encode("utf-8")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = []
    for record in event["records"]:
        result, data = transform(b64decode(record["data"]))
        output.append(
            {"recordId": record["recordId"], "result": result, "data": b64encode(data).decode()}
        )
    return {"records": output}

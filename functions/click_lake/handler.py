"""Firehose transformation: click-stream records become JSON lines for the S3 data lake.

The same decoder as the counting consumer, so the lake holds exactly the sanitized click
fields (no IP address, no user agent) whichever producer wrote the record.

A record the decoder cannot read is answered `Dropped`, never `ProcessingFailed`: Firehose
writes a failed record unchanged under the bucket's `errors/` prefix, and a raw record carries
the user agents and referrers the lake must not hold. Each one is counted (`LakeRecordsDropped`)
and logged by its ids and reason only; the consumer parks the same record in its dead-letter
queue, from where it can be re-read while the stream keeps it (docs/analytics.md).
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.clicks.events import ClickEvent
from shared.clicks.records import PoisonRecord, decode_record, error_frames, unreadable_reason
from shared.contracts import metrics as metric_names

logger = Logger()
metrics = Metrics()

OK, DROPPED = "Ok", "Dropped"


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
    """Firehose's result for one readable record and the bytes it writes.

    Raises PoisonRecord (or whatever broke the decoder) for a record it cannot read.
    """
    events = decode_record(data)
    if not events:
        # Control messages and requests that are not clicks: nothing to keep.
        return DROPPED, b""
    return OK, "".join(lake_row(event) + "\n" for event in events).encode("utf-8")


def _log_unreadable(record: dict[str, Any], error: Exception) -> None:
    # Ids and the reason only: the record itself, and any message that could quote it, stay out.
    source = record.get("kinesisRecordMetadata") or {}
    details = {
        "record_id": record["recordId"],
        "shard_id": source.get("shardId"),
        "sequence_number": source.get("sequenceNumber"),
        "approximate_arrival_ms": source.get("approximateArrivalTimestamp"),
        "reason": unreadable_reason(error),
    }
    if isinstance(error, PoisonRecord):
        logger.warning("unreadable record dropped", extra=details)
    else:
        logger.error(
            "record dropped: the decoder failed", extra={**details, "frames": error_frames(error)}
        )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = []
    dropped = 0
    for record in event["records"]:
        try:
            result, data = transform(b64decode(record["data"]))
        except Exception as error:  # one unreadable record must not fail (or leak) the batch
            _log_unreadable(record, error)
            dropped += 1
            result, data = DROPPED, b""
        output.append(
            {"recordId": record["recordId"], "result": result, "data": b64encode(data).decode()}
        )
    metrics.add_metric(name=metric_names.LAKE_RECORDS_DROPPED, unit=MetricUnit.Count, value=dropped)
    return {"records": output}

"""Kinesis consumer: a batch of click records becomes one ADD per counter item, plus a checkpoint.

Lambda's event source mapping gives this function one shard's records in order
(ParallelizationFactor 1), with ReportBatchItemFailures: the answer names the first record to
deliver again, and everything before it is done. Poison records go to the dead-letter queue as
where to find them in the stream (shard, sequence number, arrival) and why, never their payload,
which holds user agents and referrers; failures Lambda gives up on reach the same queue as its
on-failure record.
"""

from __future__ import annotations

import json
import os
import time
from base64 import b64decode
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from shared.clicks.counter import MAX_PARALLEL_WRITES, BatchOutcome, ClickCounter, StreamRecord
from shared.contracts import metrics as metric_names

logger = Logger()
metrics = Metrics()

TABLE_NAME = os.environ["SQURL_TABLE_NAME"]
DEAD_LETTER_QUEUE_URL = os.environ["SQURL_CLICK_DLQ_URL"]
# The counter writes several items at a time: one connection each.
_CLIENT_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "adaptive"}, max_pool_connections=MAX_PARALLEL_WRITES
)
dynamodb = boto3.client("dynamodb", config=_CLIENT_CONFIG)
sqs = boto3.client("sqs", config=_CLIENT_CONFIG)


def send_to_dead_letter(entries: list[dict[str, Any]]) -> None:
    """Raises unless every entry was accepted: a poison record is set aside, never dropped."""
    for start in range(0, len(entries), 10):
        group = entries[start : start + 10]
        response = sqs.send_message_batch(
            QueueUrl=DEAD_LETTER_QUEUE_URL,
            Entries=[
                {"Id": str(index), "MessageBody": json.dumps(entry)}
                for index, entry in enumerate(group)
            ],
        )
        if response.get("Failed"):
            raise RuntimeError(f"the dead-letter queue refused {response['Failed']}")
        for entry in group:
            logger.warning(
                "poison record set aside",
                extra={
                    "shard": entry["shard"],
                    "sequence_number": entry["sequence_number"],
                    "reason": entry["reason"],
                },
            )


counter = ClickCounter(dynamodb, TABLE_NAME, send_to_dead_letter, time.time)


def _shard_batches(event: dict[str, Any]) -> dict[tuple[str, str], list[StreamRecord]]:
    """Records grouped by stream and shard, in delivery order (Lambda sends one shard a batch)."""
    batches: dict[tuple[str, str], list[StreamRecord]] = {}
    for record in event.get("Records", []):
        stream = record["eventSourceARN"].rsplit("/", 1)[-1]
        shard = record["eventID"].split(":", 1)[0]
        kinesis = record["kinesis"]
        batches.setdefault((stream, shard), []).append(
            StreamRecord(
                kinesis["sequenceNumber"],
                b64decode(kinesis["data"]),
                kinesis.get("approximateArrivalTimestamp"),
            )
        )
    return batches


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    for (stream, shard), records in _shard_batches(event).items():
        outcome = counter.count(stream, shard, records)
        _report(outcome, len(records))
        if outcome.failed_from is not None:
            failures.append({"itemIdentifier": outcome.failed_from})
    return {"batchItemFailures": failures}


def _report(outcome: BatchOutcome, records: int) -> None:
    metrics.add_metric(name=metric_names.CLICK_RECORDS, unit=MetricUnit.Count, value=records)
    metrics.add_metric(
        name=metric_names.HUMAN_CLICKS, unit=MetricUnit.Count, value=outcome.human_clicks
    )
    metrics.add_metric(
        name=metric_names.BOT_CLICKS, unit=MetricUnit.Count, value=outcome.bot_clicks
    )
    metrics.add_metric(
        name=metric_names.DUPLICATE_CLICKS, unit=MetricUnit.Count, value=outcome.duplicate_clicks
    )
    metrics.add_metric(
        name=metric_names.POISON_RECORDS, unit=MetricUnit.Count, value=outcome.poison_records
    )
    metrics.add_metric(
        name=metric_names.CLICKS_FOR_MISSING_LINKS,
        unit=MetricUnit.Count,
        value=outcome.missing_link_clicks,
    )
    metrics.add_metric(
        name=metric_names.REDELIVERED_RECORDS, unit=MetricUnit.Count, value=outcome.skipped_records
    )
    # What the batch cost in DynamoDB: items written (counters and the checkpoint).
    metrics.add_metric(
        name=metric_names.COUNTER_ITEM_WRITES, unit=MetricUnit.Count, value=outcome.item_writes
    )
    if outcome.failed_from is not None:
        metrics.add_metric(name=metric_names.FAILED_BATCHES, unit=MetricUnit.Count, value=1)

"""The local click stream: the redirect's clicks, through the real consumer, within a second.

In AWS a click line travels stdout -> CloudWatch Logs -> subscription filter -> Kinesis -> the
consumer. Here the redirect's recorder puts the click on an in-process queue, and a thread drains
it in batches, wraps the clicks exactly as a log subscription does (gzip JSON envelopes) into a
Kinesis-shaped event, and calls the same consumer handler, which writes to the emulator's table
and sends poison records to the emulator's SQS queue.

The local CloudFront (devserver/edge.py, `SQURL_REDIRECT_PATH=edge`) reports each request it
answers to `record_edge_request`, which writes the line CloudFront's real-time logs would
(shared.edge_log_fields.FIELDS) onto a second local stream, as in AWS.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import boto3

from devserver.lambda_shapes import Invoke
from shared.clicks import producer
from shared.clicks.events import ClickEvent

logger = logging.getLogger(__name__)

STREAM_NAME = "squrl-clicks-local"
EDGE_STREAM_NAME = "squrl-edge-requests-local"
DEAD_LETTER_QUEUE = "squrl-clicks-dlq-local"
SHARD = "shardId-000000000000"
# Lambda's batching window for the stream: short, so local stats show up at once.
BATCH_WINDOW_SECONDS = 0.3
MAX_BATCH_CLICKS = 1000
CLICKS_PER_RECORD = 100
QUEUE_LIMIT = 100_000
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


def log_subscription_record(events: list[ClickEvent], log_group: str) -> bytes:
    """The gzip payload CloudWatch Logs puts on Kinesis for these click lines."""
    envelope = {
        "messageType": "DATA_MESSAGE",
        "owner": "000000000000",
        "logGroup": log_group,
        "logStream": "local",
        "subscriptionFilters": ["squrl-clicks"],
        "logEvents": [
            {"id": event.id, "timestamp": event.ts, "message": event.to_json()} for event in events
        ],
    }
    return gzip.compress(json.dumps(envelope).encode("utf-8"))


def edge_log_line(
    method: str, uri: str, status: int, headers: Mapping[str, str], now: float
) -> str:
    """The real-time log record CloudFront would write for this request."""
    from shared.contracts.edge_log_fields import FIELDS

    lowered = {k.lower(): v for k, v in headers.items()}
    values = {
        "timestamp": f"{now:.3f}",
        "sc-status": str(status),
        "cs-method": method,
        "cs-uri-stem": uri,
        "x-edge-location": "LOCAL",
        "x-edge-request-id": uuid.uuid4().hex,
        # CloudFront percent-encodes these two; the country stands in for its geo lookup.
        "cs-user-agent": quote(lowered.get("user-agent", ""), safe="") or "-",
        "cs-referer": quote(lowered.get("referer", ""), safe="") or "-",
        "c-country": lowered.get("cloudfront-viewer-country") or "-",
    }
    return "\t".join(values.get(name, "-") for name in FIELDS)


class LocalClickStream:
    """`consumer` invokes the click consumer in its execution environment."""

    def __init__(self, emulator_endpoint: str, region: str, consumer: Invoke):
        self.region = region
        self._consumer = consumer
        os.environ.setdefault("SQURL_CLICK_STREAM", STREAM_NAME)
        os.environ["AWS_ENDPOINT_URL_SQS"] = emulator_endpoint
        sqs = boto3.client("sqs", endpoint_url=emulator_endpoint, region_name=region)
        os.environ["SQURL_CLICK_DLQ_URL"] = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)[
            "QueueUrl"
        ]
        self._queue: queue.Queue[ClickEvent | str] = queue.Queue(QUEUE_LIMIT)
        self._stopping = threading.Event()
        # Kinesis sequence numbers only grow, across restarts too: the consumer's checkpoint and
        # every counter item's mark persist in the data directory, and a record numbered at or
        # below them is a redelivery to skip. Counting on from the clock (in nanoseconds, which
        # pass faster than records are put) keeps a restarted stream above everything it put.
        started = time.time_ns()
        self._sequences = {
            STREAM_NAME: 49_000_000_000_000_000_000 + started,
            EDGE_STREAM_NAME: 10**20 + started,
        }
        self._thread = threading.Thread(target=self._run, name="click-stream", daemon=True)
        self.dropped = 0

    def put(self, event: ClickEvent) -> None:
        """The redirect's sink: never blocks the request."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def record_edge_request(
        self, method: str, uri: str, status: int, headers: Mapping[str, str]
    ) -> None:
        """The local CloudFront's answer log: one real-time log line per answer."""
        self.put_edge_line(edge_log_line(method, uri, status, headers, time.time()))

    def put_edge_line(self, line: str) -> None:
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def start(self) -> LocalClickStream:
        producer.use_local_sink(self.put)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Counts what is queued (up to `timeout`), then stops."""
        producer.use_local_sink(None)
        self._stopping.set()
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            logger.error("the click stream did not flush in time; queued clicks are lost")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self._stopping.wait(BATCH_WINDOW_SECONDS)  # a stop ends the window early
            batch = [first]
            while len(batch) < MAX_BATCH_CLICKS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._deliver_batch(batch)
        # Clicks still queued at Ctrl-C are counted before the emulator stops.
        rest: list[ClickEvent | str] = []
        while True:
            try:
                rest.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if rest:
            self._deliver_batch(rest)

    def _deliver_batch(self, batch: list[ClickEvent | str]) -> None:
        """One invocation per stream, as Lambda invokes per shard."""
        events = [item for item in batch if isinstance(item, ClickEvent)]
        lines = [item for item in batch if isinstance(item, str)]
        if events:
            self._deliver(self._records(events))
        if lines:
            self._deliver(
                [
                    self._record(EDGE_STREAM_NAME, line.encode("utf-8"), uuid.uuid4().hex)
                    for line in lines
                ]
            )

    def _records(self, events: list[ClickEvent]) -> list[dict[str, Any]]:
        return [
            self._record(
                STREAM_NAME,
                log_subscription_record(
                    events[start : start + CLICKS_PER_RECORD], "/aws/lambda/squrl-local-redirect"
                ),
                events[start].id,
            )
            for start in range(0, len(events), CLICKS_PER_RECORD)
        ]

    def _record(self, stream: str, data: bytes, partition_key: str) -> dict[str, Any]:
        self._sequences[stream] += 1
        sequence = self._sequences[stream]
        return {
            "eventSource": "aws:kinesis",
            "eventSourceARN": f"arn:aws:kinesis:{self.region}:000000000000:stream/{stream}",
            "eventID": f"{SHARD}:{sequence}",
            "kinesis": {
                "sequenceNumber": str(sequence),
                "partitionKey": partition_key,
                "data": base64.b64encode(data).decode("ascii"),
                "approximateArrivalTimestamp": time.time(),
            },
        }

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        """As Lambda's event source mapping does: from the reported failure on, a few times."""
        for delay in (0.0, *RETRY_DELAYS):
            self._stopping.wait(delay)  # retries at once when stopping: time is short then
            try:
                response = self._consumer({"Records": records})
            except Exception:
                logger.exception("the click consumer failed")
                continue
            failures = response.get("batchItemFailures") or []
            if not failures:
                return
            first = min(int(f["itemIdentifier"]) for f in failures)
            records = [r for r in records if int(r["kinesis"]["sequenceNumber"]) >= first]
        logger.error("gave up on %d click records after retries", len(records))

"""The import state machine's task (docs/imports.md): `start`, `chunk` or `fail`, by `action`.

Input from the state machine: `{"action": "start", "key": "uploads/<id>"}` for the first state
(the S3 event's object key), then `{"action": "chunk", "job_id": ...}` until `done`, or
`{"action": "fail", "job_id" | "key": ..., "error": {...}}`. An execution that failed, timed
out or was aborted arrives as EventBridge's "Step Functions Execution Status Change" event (its
`detail.input` is the execution's input, with the key): the job is marked failed, its cursor
kept, and a redrive of the execution re-runs the failed task from that cursor.
"""

from __future__ import annotations

import io
import json
import os
import time
from typing import Any, BinaryIO

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from shared.imports import jobs, worker
from shared.imports.processor import DEFAULT_CHUNK_ROWS
from shared.links import service
from shared.links.api import logger, tracer
from shared.settings import settings

config = settings()
policy = service.url_policy(config)
BUCKET = os.environ.get("SQURL_IMPORT_BUCKET", "")
CHUNK_ROWS = int(os.environ.get("SQURL_IMPORT_CHUNK_ROWS", str(DEFAULT_CHUNK_ROWS)))
MAX_BYTES = int(os.environ.get("SQURL_IMPORT_MAX_BYTES", str(worker.DEFAULT_MAX_UPLOAD_BYTES)))
# A chunk stops taking new rows when less than this is left of the function's timeout, and
# commits what it did: the next chunk goes on from there.
SAFETY_MILLIS = 30_000
s3 = boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
# The worker's table client: standard retries for throttling, and no botocore parameter
# validation (a quarter of a chunk's CPU time; the requests are squrl's own).
table = boto3.client(
    "dynamodb",
    region_name=config.home_region,
    config=Config(
        retries={"max_attempts": 8, "mode": "standard"},
        parameter_validation=False,
        connect_timeout=2,
        read_timeout=5,
    ),
)


def opener(key: str, size: int, etag: str | None) -> Any:
    """Opens the upload at a byte offset: a ranged GET, pinned to the version first read."""

    def open_at(offset: int) -> BinaryIO:
        if offset >= size:
            return io.BytesIO(b"")
        extra = {"IfMatch": etag} if etag else {}
        answer = s3.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={offset}-", **extra)
        body: BinaryIO = answer["Body"]
        return body

    return open_at


EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


def from_execution_event(event: dict[str, Any]) -> dict[str, Any]:
    """The `fail` action for an execution that ended unsuccessfully (EventBridge's event)."""
    detail = event.get("detail") or {}
    execution_input = json.loads(detail.get("input") or "{}")
    return {
        "action": "fail",
        "key": str(execution_input.get("key", "")),
        "error": {
            "Error": f"{detail.get('status', 'FAILED')} {detail.get('error') or ''}".strip(),
            "Cause": detail.get("cause") or "",
        },
    }


def _job_id(event: dict[str, Any]) -> str:
    job_id = event.get("job_id") or jobs.job_id_from_key(str(event.get("key", "")))
    if not job_id:
        raise ValueError(f"not an import upload: {event.get('key')!r}")
    return str(job_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
        event = from_execution_event(event)
    action = event.get("action")
    job_id = _job_id(event)
    client = table
    key = jobs.upload_key(job_id)
    if action == "fail":
        error = event.get("error") or {}
        message = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:300]}"
        worker.fail(client, config, job_id, message)
        return {"job_id": job_id, "done": True}
    if action == "start":
        head = s3.head_object(Bucket=BUCKET, Key=key)
        size, etag = int(head["ContentLength"]), str(head["ETag"])
        going = worker.start(
            client,
            config,
            job_id,
            size=size,
            open_at=opener(key, size, etag),
            max_bytes=MAX_BYTES,
            now=time.time(),
            version=etag,
        )
        logger.info("import started", extra={"import_id": job_id, "bytes": size, "go": going})
        return {"job_id": job_id, "done": not going}
    if action == "chunk":
        job = jobs.get_job(client, config.table_name, job_id) or {}
        version = job.get(jobs.UPLOAD_VERSION)
        open_at = opener(key, int(job.get(jobs.UPLOAD_SIZE, 0)), str(version) if version else None)
        done = worker.chunk(
            client,
            config,
            policy,
            job_id,
            open_at,
            max_rows=CHUNK_ROWS,
            out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MILLIS,
        )
        return {"job_id": job_id, "done": done}
    raise ValueError(f"unknown action {json.dumps(action)}")

"""The Step Functions tasks (functions/import_worker) against moto's S3 and DynamoDB: start,
chunks until done (ranged reads from the cursor), and the failure path."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.import_worker import handler as worker_module
from shared.imports import jobs
from shared.settings import settings
from tests.unit.events import context

BUCKET = "squrl-test-imports-000000000000-us-east-1"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def aws(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(worker_module, "s3", s3)
    monkeypatch.setattr(worker_module, "table", dynamodb)
    monkeypatch.setattr(worker_module, "BUCKET", BUCKET)
    monkeypatch.setattr(worker_module, "CHUNK_ROWS", 4)
    return dynamodb, s3


def upload(aws: Any, body: bytes, fmt: str = "csv") -> str:
    dynamodb, s3 = aws
    job_id = jobs.create_job(
        dynamodb, settings().table_name, owner_id="owner-1", fmt=fmt, now=time.time()
    )
    s3.put_object(Bucket=BUCKET, Key=jobs.upload_key(job_id), Body=body)
    return job_id


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    lambda_context = context("import-worker")
    lambda_context.get_remaining_time_in_millis = Context().get_remaining_time_in_millis  # type: ignore[method-assign]
    return worker_module.handler(payload, lambda_context)


def test_start_then_chunks_until_done(aws: Any) -> None:
    rows = [f"https://example.com/w/{i},w-{i},,,," for i in range(10)]
    rows[6] = "http://localhost/x,,,,,"
    job_id = upload(
        aws,
        (
            "original_url,custom_code,title,tags,ttl_hours,redirect_type\n" + "\n".join(rows) + "\n"
        ).encode(),
    )
    state = invoke({"action": "start", "key": f"uploads/{job_id}"})
    assert state == {"job_id": job_id, "done": False}
    chunks = 0
    while not state["done"]:
        state = invoke({"action": "chunk", "job_id": job_id})
        chunks += 1
    assert chunks == 3  # 4 + 4 + 2 rows
    job = jobs.get_job(aws[0], settings().table_name, job_id)
    assert job is not None
    view = jobs.job_view(job_id, job)
    assert (view["status"], view["total"], view["created"], view["failed"]) == ("done", 10, 9, 1)
    assert view["errors"][0]["line"] == 8 and view["errors"][0]["reason"] == "private_address"


def test_an_upload_over_the_limit_fails_its_job(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "MAX_BYTES", 10)
    job_id = upload(aws, b"original_url\nhttps://example.com/long-enough\n")
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is True
    job = jobs.get_job(aws[0], settings().table_name, job_id)
    assert job is not None and job["job_status"] == "failed"
    assert job["message"].startswith("PayloadTooLarge")


def test_the_failure_path_marks_the_job_failed_and_a_restart_resumes_it(aws: Any) -> None:
    job_id = upload(aws, b"original_url\n" + b"https://example.com/r\n" * 6)
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    invoke({"action": "chunk", "job_id": job_id})
    failed = invoke(
        {"action": "fail", "job_id": job_id, "error": {"Error": "States.Timeout", "Cause": "x"}}
    )
    assert failed == {"job_id": job_id, "done": True}
    table = settings().table_name
    job = jobs.get_job(aws[0], table, job_id)
    assert job is not None and job["job_status"] == "failed" and job["cursor"] > 0
    # A redriven execution starts again: the job resumes from its cursor.
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is False
    while not invoke({"action": "chunk", "job_id": job_id})["done"]:
        pass
    job = jobs.get_job(aws[0], table, job_id)
    assert job is not None
    view = jobs.job_view(job_id, job)
    assert (view["status"], view["created"], view["skipped"]) == ("done", 1, 5)


def test_a_file_replaced_after_the_start_is_refused(aws: Any) -> None:
    job_id = upload(aws, b"original_url\nhttps://example.com/a\n")
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    aws[1].put_object(Bucket=BUCKET, Key=jobs.upload_key(job_id), Body=b"original_url\nx\n")
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is True
    # A chunk reads only the version the job started on (If-Match on its ETag).
    with pytest.raises(ClientError) as refused:
        invoke({"action": "chunk", "job_id": job_id})
    assert refused.value.response["Error"]["Code"] in ("PreconditionFailed", "412")


def test_a_key_that_is_not_an_upload_is_refused(aws: Any) -> None:
    with pytest.raises(ValueError):
        invoke({"action": "start", "key": "elsewhere/abc"})


def execution_event(job_id: str, status: str = "FAILED") -> dict[str, Any]:
    """EventBridge's "Step Functions Execution Status Change" for the job's execution."""
    return {
        "version": "0",
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": "arn:aws:states:us-east-1:000000000000:execution:squrl-test-imports:x",
            "status": status,
            "input": json.dumps({"key": f"uploads/{job_id}"}),
            "error": "States.Timeout" if status == "FAILED" else None,
            "cause": "the chunk's task timed out" if status == "FAILED" else None,
        },
    }


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_failed_execution_marks_the_job_failed_and_a_redriven_chunk_resumes_it(
    aws: Any, status: str
) -> None:
    """A redrive re-runs the failed Chunk task (not Start): it reads the failed job's cursor,
    flips it back to running and goes on; nothing is created or counted twice."""
    job_id = upload(
        aws, b"original_url\n" + b"".join(b"https://example.com/d/%d\n" % i for i in range(10))
    )
    table = settings().table_name
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    invoke({"action": "chunk", "job_id": job_id})
    assert invoke(execution_event(job_id, status)) == {"job_id": job_id, "done": True}
    job = jobs.get_job(aws[0], table, job_id)
    assert job is not None and job["job_status"] == "failed"
    assert job["message"].startswith(status) and job["cursor"] > 0
    cursor = job["cursor"]
    assert invoke({"action": "chunk", "job_id": job_id}) == {"job_id": job_id, "done": False}
    job = jobs.get_job(aws[0], table, job_id)
    assert job is not None and job["job_status"] == "running" and job["cursor"] > cursor
    assert "message" not in jobs.job_view(job_id, job)
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is True
    job = jobs.get_job(aws[0], table, job_id)
    assert job is not None
    view = jobs.job_view(job_id, job)
    assert (view["status"], view["total"], view["created"], view["skipped"]) == ("done", 10, 10, 0)

"""Import job records in the links table (shared.contracts.table, `import#{id}`).

The job item is the single source of truth for progress: a chunk's counts, its first errors
and the advance of the cursor are written by one UpdateItem, conditional on the cursor the chunk
started from. A chunk that runs twice (a retry after a crash, a duplicated start) commits once;
the other attempt's commit fails its condition and its counts are dropped.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shared.contracts.link_state import iso_utc
from shared.contracts.table import (
    IMPORT_PREFIX,
    IMPORT_RETENTION_DAYS,
    PARTITION_KEY,
    TTL_ATTRIBUTE,
    import_job_key,
)
from shared.links.repository import from_item, to_item

WAITING, RUNNING, DONE, FAILED = "waiting", "running", "done", "failed"
# At most this many per-line errors are stored per job; `errors_truncated` says when there
# were more (`failed` always counts them all). Each is a few dozen bytes: the item stays far
# below DynamoDB's 400 KB.
MAX_STORED_ERRORS = 1000
JOB_ID = re.compile(r"[0-9a-f]{32}")
UPLOAD_PREFIX = "uploads/"

# Attribute names of a job item.
OWNER, FORMAT, STATUS = "job_owner", "job_format", "job_status"
CREATED_AT, UPDATED_AT = "job_created_at", "job_updated_at"
TOTAL, CREATED, SKIPPED, FAILED_ROWS = "total", "created", "skipped", "failed"
CURSOR, NEXT_LINE, HEADER, ERRORS, MESSAGE = "cursor", "next_line", "header", "errors", "message"
# The upload as first read (S3's ETag, its size): later chunks read that version only.
UPLOAD_VERSION, UPLOAD_SIZE = "upload_version", "upload_size"
# Set when the owner's account is erased (DELETE /me): the job never starts again, no chunk
# commits, and the upload is refused.
ERASED = "job_erased"
ERASED_MESSAGE = "account erased"
# `imports#{owner}`: the ids of the owner's jobs (a string set), so that the export and the
# erasure find them without an index. It expires (TTL) with the owner's newest job.
OWNER_JOBS_PREFIX = "imports#"
JOB_IDS = "job_ids"


def new_job_id() -> str:
    return secrets.token_hex(16)


def upload_key(job_id: str) -> str:
    return f"{UPLOAD_PREFIX}{job_id}"


def job_id_from_key(key: str) -> str | None:
    job_id = key.removeprefix(UPLOAD_PREFIX)
    return job_id if key.startswith(UPLOAD_PREFIX) and JOB_ID.fullmatch(job_id) else None


def owner_jobs_key(owner_id: str) -> str:
    return f"{OWNER_JOBS_PREFIX}{owner_id}"


def create_job(client: Any, table_name: str, *, owner_id: str, fmt: str, now: float) -> str:
    job_id = new_job_id()
    # Registered first: a job the erasure cannot find must never exist.
    client.update_item(
        TableName=table_name,
        Key={PARTITION_KEY: {"S": owner_jobs_key(owner_id)}},
        UpdateExpression="ADD #ids :id SET #ttl = :ttl",
        ExpressionAttributeNames={"#ids": JOB_IDS, "#ttl": TTL_ATTRIBUTE},
        ExpressionAttributeValues={
            ":id": {"SS": [job_id]},
            ":ttl": {"N": str(int(now) + IMPORT_RETENTION_DAYS * 86400)},
        },
    )
    item = {
        PARTITION_KEY: import_job_key(job_id),
        OWNER: owner_id,
        FORMAT: fmt,
        STATUS: WAITING,
        CREATED_AT: iso_utc(now),
        UPDATED_AT: iso_utc(now),
        TOTAL: 0,
        CREATED: 0,
        SKIPPED: 0,
        FAILED_ROWS: 0,
        CURSOR: 0,
        NEXT_LINE: 1,
        ERRORS: [],
        TTL_ATTRIBUTE: int(now) + IMPORT_RETENTION_DAYS * 86400,
    }
    client.put_item(
        TableName=table_name,
        Item=to_item(item),
        ConditionExpression="attribute_not_exists(#pk)",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
    )
    return job_id


def get_job(client: Any, table_name: str, job_id: str) -> dict[str, Any] | None:
    if JOB_ID.fullmatch(job_id) is None:
        return None
    answer = client.get_item(
        TableName=table_name,
        Key={PARTITION_KEY: {"S": import_job_key(job_id)}},
        ConsistentRead=True,
    )
    item = answer.get("Item")
    return from_item(item) if item else None


def job_id_of(item: dict[str, Any]) -> str:
    return str(item[PARTITION_KEY]).removeprefix(IMPORT_PREFIX)


def owner_job_ids(client: Any, table_name: str, owner_id: str) -> list[str]:
    answer = client.get_item(
        TableName=table_name,
        Key={PARTITION_KEY: {"S": owner_jobs_key(owner_id)}},
        ConsistentRead=True,
    )
    return sorted(answer.get("Item", {}).get(JOB_IDS, {}).get("SS", []))


def owner_jobs(client: Any, table_name: str, owner_id: str) -> list[dict[str, Any]]:
    """The owner's jobs still kept (BatchGetItem, 100 a call), oldest first."""
    ids = owner_job_ids(client, table_name, owner_id)
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        keys = [{PARTITION_KEY: {"S": import_job_key(i)}} for i in ids[start : start + 100]]
        while keys:
            answer = client.batch_get_item(
                RequestItems={table_name: {"Keys": keys, "ConsistentRead": True}}
            )
            found.extend(from_item(i) for i in answer.get("Responses", {}).get(table_name, []))
            keys = answer.get("UnprocessedKeys", {}).get(table_name, {}).get("Keys", [])
    mine = [item for item in found if item.get(OWNER) == owner_id]
    return sorted(mine, key=lambda item: (str(item[CREATED_AT]), str(item[PARTITION_KEY])))


def erase_job(client: Any, table_name: str, job_id: str, *, now: float) -> bool:
    """Stop a job for good (its owner's account is erased): failed with ERASED_MESSAGE, and
    marked so that it never starts or commits again. False if it was already done."""
    return _update(
        client,
        table_name,
        job_id,
        UpdateExpression="SET #status = :failed, #message = :message, #updated = :now, "
        "#erased = :yes",
        ConditionExpression="attribute_exists(#pk) AND #status <> :done",
        ExpressionAttributeNames={
            "#pk": PARTITION_KEY,
            "#status": STATUS,
            "#message": MESSAGE,
            "#updated": UPDATED_AT,
            "#erased": ERASED,
        },
        ExpressionAttributeValues={
            ":failed": {"S": FAILED},
            ":done": {"S": DONE},
            ":message": {"S": ERASED_MESSAGE},
            ":now": {"S": iso_utc(now)},
            ":yes": {"BOOL": True},
        },
    )


def job_view(job_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """The job as `GET /imports/{id}` shows it (docs/api.md section 9)."""
    errors = list(item.get(ERRORS) or [])
    view = {
        "id": job_id,
        "status": item[STATUS],
        "format": item[FORMAT],
        "total": int(item.get(TOTAL, 0)),
        "created": int(item.get(CREATED, 0)),
        "skipped": int(item.get(SKIPPED, 0)),
        "failed": int(item.get(FAILED_ROWS, 0)),
        "errors": [{k: int(v) if k == "line" else v for k, v in e.items()} for e in errors],
        "errors_truncated": int(item.get(FAILED_ROWS, 0)) > len(errors),
        "created_at": item[CREATED_AT],
        "updated_at": item[UPDATED_AT],
    }
    if item.get(MESSAGE):
        view["message"] = item[MESSAGE]
    return view


def _update(client: Any, table_name: str, job_id: str, **request: Any) -> bool:
    try:
        client.update_item(
            TableName=table_name, Key={PARTITION_KEY: {"S": import_job_key(job_id)}}, **request
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def start_job(
    client: Any,
    table_name: str,
    job_id: str,
    *,
    total: int,
    now: float,
    version: str = "",
    size: int = 0,
) -> bool:
    """Mark an uploaded job running with its row count; False if it is done (or unknown), or if
    it started before on another version of the upload (a file replaced mid-import).

    A failed job starts again from its cursor: that is how an import is resumed.
    """
    return _update(
        client,
        table_name,
        job_id,
        UpdateExpression="SET #status = :running, #total = :total, #updated = :now, "
        "#version = :version, #size = :size REMOVE #message",
        ConditionExpression="attribute_exists(#pk) AND #status <> :done "
        "AND attribute_not_exists(#erased) "
        "AND (attribute_not_exists(#version) OR #version = :version)",
        ExpressionAttributeNames={
            "#pk": PARTITION_KEY,
            "#erased": ERASED,
            "#status": STATUS,
            "#total": TOTAL,
            "#updated": UPDATED_AT,
            "#message": MESSAGE,
            "#version": UPLOAD_VERSION,
            "#size": UPLOAD_SIZE,
        },
        ExpressionAttributeValues={
            ":running": {"S": RUNNING},
            ":done": {"S": DONE},
            ":total": {"N": str(total)},
            ":now": {"S": iso_utc(now)},
            ":version": {"S": version},
            ":size": {"N": str(size)},
        },
    )


@dataclass
class ChunkCounts:
    """What one chunk did, committed with the cursor it reached."""

    created: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def commit_chunk(
    client: Any,
    table_name: str,
    job: dict[str, Any],
    *,
    cursor: int,
    next_line: int,
    header: list[str],
    counts: ChunkCounts,
    done: bool,
    now: float,
) -> bool:
    """Add the chunk's counts and advance the cursor, if no other attempt has moved it since
    `job` was read and the owner's account was not erased meanwhile. False (nothing written)
    otherwise: this attempt's counts are dropped. A chunk of a job marked failed (a redriven
    execution) sets it running again, without the failure's message."""
    job_id = str(job[PARTITION_KEY]).removeprefix("import#")
    room = max(0, MAX_STORED_ERRORS - len(job.get(ERRORS) or []))
    values = {
        ":from": {"N": str(int(job[CURSOR]))},
        ":to": {"N": str(cursor)},
        ":line": {"N": str(next_line)},
        ":header": to_item({"h": header})["h"],
        ":created": {"N": str(counts.created)},
        ":skipped": {"N": str(counts.skipped)},
        ":failed": {"N": str(counts.failed)},
        ":errors": to_item({"e": counts.errors[:room]})["e"],
        ":status": {"S": DONE if done else RUNNING},
        ":now": {"S": iso_utc(now)},
    }
    return _update(
        client,
        table_name,
        job_id,
        UpdateExpression="SET #cursor = :to, #line = :line, #header = :header, "
        "#errors = list_append(#errors, :errors), #status = :status, #updated = :now "
        "ADD #created :created, #skipped :skipped, #failed :failed REMOVE #message",
        ConditionExpression="#cursor = :from AND attribute_not_exists(#erased)",
        ExpressionAttributeNames={
            "#erased": ERASED,
            "#cursor": CURSOR,
            "#line": NEXT_LINE,
            "#header": HEADER,
            "#errors": ERRORS,
            "#status": STATUS,
            "#updated": UPDATED_AT,
            "#created": CREATED,
            "#skipped": SKIPPED,
            "#failed": FAILED_ROWS,
            "#message": MESSAGE,
        },
        ExpressionAttributeValues=values,
    )


def fail_job(client: Any, table_name: str, job_id: str, *, message: str, now: float) -> bool:
    """Mark a job failed (its cursor is kept, so starting it again resumes it)."""
    return _update(
        client,
        table_name,
        job_id,
        UpdateExpression="SET #status = :failed, #message = :message, #updated = :now",
        ConditionExpression="attribute_exists(#pk) AND #status <> :done",
        ExpressionAttributeNames={
            "#pk": PARTITION_KEY,
            "#status": STATUS,
            "#message": MESSAGE,
            "#updated": UPDATED_AT,
        },
        ExpressionAttributeValues={
            ":failed": {"S": FAILED},
            ":done": {"S": DONE},
            ":message": {"S": message[:500]},
            ":now": {"S": iso_utc(now)},
        },
    )

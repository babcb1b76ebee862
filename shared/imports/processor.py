"""One chunk of an import: read rows from the cursor, create their links, commit the progress.

The same code runs in the Step Functions worker (functions/import_worker) and in the local
server's background thread (devserver/imports.py). Exactly-once per row:
- a created row's marker item (`import#{id}#{line}`) is written in the link's own transaction,
  only if absent, so no attempt can create the row's link a second time;
- markers are read before a chunk runs, so a row created by an attempt that crashed counts as
  created again (not as a duplicate to skip);
- skipped and failed rows leave no marker: running them again gives the same outcome;
- the chunk's counts are committed with the cursor, conditional on the cursor it started from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from shared.contracts.table import (
    IMPORT_RETENTION_DAYS,
    PARTITION_KEY,
    TTL_ATTRIBUTE,
    import_row_key,
)
from shared.imports import jobs
from shared.imports.formats import (
    FORMAT_SPECS,
    Columns,
    Format,
    HeaderError,
    columns,
    create_request,
    error_entry,
)
from shared.imports.records import Record, records
from shared.links import repository, service
from shared.links.errors import ConflictError, SqurlError, ValidationError
from shared.links.urls import UrlPolicy
from shared.settings import Settings

DEFAULT_CHUNK_ROWS = 1000
# BatchGetItem reads at most 100 keys per call.
BATCH_GET_KEYS = 100
LINK_CODE = "link_code"

# Opens the upload at a byte offset.
Opener = Callable[[int], BinaryIO]


@dataclass(frozen=True)
class ChunkOutcome:
    done: bool
    committed: bool
    rows: int


@dataclass(frozen=True)
class _Context:
    client: Any
    config: Settings
    policy: UrlPolicy
    job_id: str
    owner_id: str
    fmt: Format
    cols: Columns
    now: float
    marker_expiry: int


def _recorded_lines(client: Any, table: str, job_id: str, lines: list[int]) -> set[int]:
    """The lines of this chunk whose links an earlier attempt created (their markers exist)."""
    found: set[int] = set()
    for start in range(0, len(lines), BATCH_GET_KEYS):
        keys: list[dict[str, Any]] = [
            {PARTITION_KEY: {"S": import_row_key(job_id, line)}}
            for line in lines[start : start + BATCH_GET_KEYS]
        ]
        while keys:
            answer = client.batch_get_item(
                RequestItems={
                    table: {
                        "Keys": keys,
                        "ConsistentRead": True,
                        "ProjectionExpression": "#pk",
                        "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                    }
                }
            )
            for item in answer.get("Responses", {}).get(table, []):
                found.add(int(item[PARTITION_KEY]["S"].rsplit("#", 1)[1]))
            keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def _marker(ctx: _Context, line: int) -> Callable[[str], dict[str, Any]]:
    def item(code: str) -> dict[str, Any]:
        return {
            PARTITION_KEY: import_row_key(ctx.job_id, line),
            LINK_CODE: code,
            TTL_ATTRIBUTE: ctx.marker_expiry,
        }

    return item


def _already_theirs(ctx: _Context, code: str, original_url: str) -> bool:
    """A taken custom code that is already this owner's link to the same URL: skipped."""
    item = repository.get_link(ctx.client, ctx.config.table_name, code, consistent=True)
    return (
        item is not None
        and item.get("owner_id") == ctx.owner_id
        and item.get("status") != "deleted"
        and item.get("original_url") == original_url
    )


def import_row(ctx: _Context, record: Record) -> tuple[str, dict[str, Any] | None]:
    """`created`, `skipped` or `failed` (with its error entry) for one row."""
    if record.fields is None:
        reason = record.error.reason if record.error else "csv"
        error = ValidationError(str(record.error), reason=reason)
        return "failed", error_entry(record.line, error)
    new = None
    try:
        request = create_request(ctx.fmt, record.fields, ctx.cols, ctx.now)
        new = service.prepare_create(request, ctx.policy, ctx.now)
        status, _ = service.create_prepared(
            ctx.client,
            ctx.config,
            new,
            owner_id=ctx.owner_id,
            now=ctx.now,
            marker=_marker(ctx, record.line),
        )
    except repository.AlreadyRecorded:
        return "created", None
    except ConflictError as error:
        code = new.custom_code if new is not None else None
        if new is not None and code is not None and _already_theirs(ctx, code, new.original_url):
            return "skipped", None
        return "failed", error_entry(record.line, error)
    except SqurlError as error:
        if error.status >= 500:
            raise
        return "failed", error_entry(record.line, error)
    return ("created" if status == 201 else "skipped"), None


def _take(rows: Iterator[Record], limit: int) -> list[Record]:
    taken: list[Record] = []
    for record in rows:
        taken.append(record)
        if len(taken) >= limit:
            break
    return taken


def run_chunk(
    client: Any,
    config: Settings,
    policy: UrlPolicy,
    job_id: str,
    open_at: Opener,
    *,
    now: Callable[[], float],
    max_rows: int = DEFAULT_CHUNK_ROWS,
    out_of_time: Callable[[], bool] = lambda: False,
) -> ChunkOutcome:
    """Process up to `max_rows` rows from the job's cursor and commit; `done` at the end of
    the file. Stops early (committing what it did) once `out_of_time()` says so."""
    job = jobs.get_job(client, config.table_name, job_id)
    if job is None or job[jobs.STATUS] == jobs.DONE:
        return ChunkOutcome(done=True, committed=False, rows=0)
    cursor, line = int(job[jobs.CURSOR]), int(job[jobs.NEXT_LINE])
    fmt = FORMAT_SPECS[job[jobs.FORMAT]]
    source = open_at(cursor)
    try:
        rows = records(source, offset=cursor, line=line)
        header = list(job.get(jobs.HEADER) or [])
        if cursor == 0:
            first = next(rows, None)
            header = (first.fields or []) if first is not None else []
            cursor, line = (first.end, first.line + 1) if first is not None else (0, 1)
        cols = columns(fmt, header)  # HeaderError: the caller fails the job
        chunk = _take(rows, max_rows)
    finally:
        source.close()
    started = now()
    ctx = _Context(
        client=client,
        config=config,
        policy=policy,
        job_id=job_id,
        owner_id=str(job[jobs.OWNER]),
        fmt=fmt,
        cols=cols,
        now=started,
        marker_expiry=int(started) + IMPORT_RETENTION_DAYS * 86400,
    )
    recorded = _recorded_lines(client, config.table_name, job_id, [r.line for r in chunk])
    counts = jobs.ChunkCounts()
    processed = 0
    for record in chunk:
        if processed and out_of_time():
            break
        outcome, error = ("created", None) if record.line in recorded else import_row(ctx, record)
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        if error is not None:
            counts.errors.append(error)
        cursor, line = record.end, record.line + 1
        processed += 1
    # The file ends here when the chunk read fewer rows than it could and did them all.
    done = len(chunk) < max_rows and processed == len(chunk)
    committed = jobs.commit_chunk(
        client,
        config.table_name,
        job,
        cursor=cursor,
        next_line=line,
        header=header,
        counts=counts,
        done=done,
        now=now(),
    )
    return ChunkOutcome(done=done, committed=committed, rows=processed)


__all__ = ["ChunkOutcome", "HeaderError", "run_chunk"]

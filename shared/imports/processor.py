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
from shared.links.service import NewLink
from shared.links.urls import UrlPolicy
from shared.settings import Settings

DEFAULT_CHUNK_ROWS = 1000
# Rows with custom codes per TransactWriteItems: three actions each, of DynamoDB's 100.
BATCH_ROWS = 33
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


def _read_many(
    client: Any, table: str, keys: list[str], attributes: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """The items stored under `keys` (strongly consistent), by key; absent keys are left out."""
    names = {"#pk": PARTITION_KEY, **{f"#a{i}": name for i, name in enumerate(attributes)}}
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH_GET_KEYS):
        wanted: list[dict[str, Any]] = [
            {PARTITION_KEY: {"S": key}} for key in unique[start : start + BATCH_GET_KEYS]
        ]
        while wanted:
            answer = client.batch_get_item(
                RequestItems={
                    table: {
                        "Keys": wanted,
                        "ConsistentRead": True,
                        "ProjectionExpression": ", ".join(names),
                        "ExpressionAttributeNames": names,
                    }
                }
            )
            for item in answer.get("Responses", {}).get(table, []):
                values = repository.from_item(item)
                found[str(values[PARTITION_KEY])] = values
            wanted = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def _recorded_lines(client: Any, table: str, job_id: str, lines: list[int]) -> set[int]:
    """The lines of this chunk whose links an earlier attempt created (their markers exist)."""
    found = _read_many(client, table, [import_row_key(job_id, line) for line in lines])
    return {int(key.rsplit("#", 1)[1]) for key in found}


def _marker(ctx: _Context, line: int) -> Callable[[str], dict[str, Any]]:
    def item(code: str) -> dict[str, Any]:
        return {
            PARTITION_KEY: import_row_key(ctx.job_id, line),
            LINK_CODE: code,
            TTL_ATTRIBUTE: ctx.marker_expiry,
        }

    return item


def _same_link(item: dict[str, Any], owner_id: str, original_url: str) -> bool:
    return (
        item.get("owner_id") == owner_id
        and item.get("status") != "deleted"
        and item.get("original_url") == original_url
    )


def _already_theirs(ctx: _Context, code: str, original_url: str) -> bool:
    """A taken custom code that is already this owner's link to the same URL: skipped."""
    item = repository.get_link(ctx.client, ctx.config.table_name, code, consistent=True)
    return item is not None and _same_link(item, ctx.owner_id, original_url)


def _taken(ctx: _Context, line: int, new: NewLink, item: dict[str, Any]) -> tuple[str, Any]:
    """A row whose custom code holds an item: skipped if it is this owner's link to the same
    URL, else the ConflictError that `POST /urls` answers."""
    if _same_link(item, ctx.owner_id, new.original_url):
        return "skipped", None
    error = ConflictError(f"The custom code {new.custom_code!r} is taken.", {"reason": "taken"})
    return "failed", error_entry(line, error)


def prepare_row(ctx: _Context, record: Record) -> NewLink | dict[str, Any]:
    """The row as a link to create, or its error entry (it failed validation)."""
    if record.fields is None:
        reason = record.error.reason if record.error else "csv"
        return error_entry(record.line, ValidationError(str(record.error), reason=reason))
    try:
        request = create_request(ctx.fmt, record.fields, ctx.cols, ctx.now)
        return service.prepare_create(request, ctx.policy, ctx.now)
    except SqurlError as error:
        if error.status >= 500:
            raise
        return error_entry(record.line, error)


def create_row(ctx: _Context, line: int, new: NewLink) -> tuple[str, dict[str, Any] | None]:
    """One row through the links service: `created`, `skipped` or `failed` (with its error)."""
    try:
        status, _ = service.create_prepared(
            ctx.client,
            ctx.config,
            new,
            owner_id=ctx.owner_id,
            now=ctx.now,
            marker=_marker(ctx, line),
        )
    except repository.AlreadyRecorded:
        return "created", None
    except ConflictError as error:
        code = new.custom_code
        if code is not None and _already_theirs(ctx, code, new.original_url):
            return "skipped", None
        return "failed", error_entry(line, error)
    except SqurlError as error:
        if error.status >= 500:
            raise
        return "failed", error_entry(line, error)
    return ("created" if status == 201 else "skipped"), None


class _Rows:
    """A chunk's outcomes, in file order.

    Rows with a custom code: the codes' items are read first (BatchGetItem), so a code already
    held is decided without a write (skipped or ConflictError); the others are created
    BATCH_ROWS to a transaction (link, history entry and marker each). A refused batch falls
    back to the links service for the rows refused. A row repeating a code of the open batch
    waits for that batch. Rows without a custom code go through the links service one by one,
    after the batch before them, since deduplication reads what earlier rows made.
    """

    def __init__(self, ctx: _Context, held: dict[str, dict[str, Any]]):
        self.ctx = ctx
        self.held = held  # code -> its item, as read or as created by this chunk
        self.counts = jobs.ChunkCounts()
        self.pending: dict[str, tuple[int, NewLink]] = {}
        self.waiting: list[tuple[int, NewLink]] = []

    def count(self, outcome: str, error: dict[str, Any] | None) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
        if error is not None:
            self.counts.errors.append(error)

    def add(self, line: int, new: NewLink) -> None:
        code = new.custom_code
        if code is None:
            self.flush()
            self.count(*create_row(self.ctx, line, new))
        elif code in self.held:
            self.count(*_taken(self.ctx, line, new, self.held[code]))
        elif code in self.pending:
            self.waiting.append((line, new))
        else:
            self.pending[code] = (line, new)
            if len(self.pending) >= BATCH_ROWS:
                self.flush()

    def flush(self) -> None:
        batch = list(self.pending.values())
        self.pending = {}
        if batch:
            self._create(batch, retry=True)
        waiting, self.waiting = self.waiting, []
        for line, new in waiting:
            self.add(line, new)
        if self.pending:
            self.flush()

    def _create(self, batch: list[tuple[int, NewLink]], *, retry: bool) -> None:
        refused = service.create_custom_batch(
            self.ctx.client,
            self.ctx.config,
            [(new, _marker(self.ctx, line)(str(new.custom_code))) for line, new in batch],
            owner_id=self.ctx.owner_id,
            now=self.ctx.now,
        )
        reasons = refused or [None] * len(batch)
        untouched = []
        for (line, new), reason in zip(batch, reasons, strict=True):
            if refused is None:
                self.count("created", None)
                self.held[str(new.custom_code)] = {
                    "owner_id": self.ctx.owner_id,
                    "original_url": new.original_url,
                }
            elif reason is None and retry:
                untouched.append((line, new))
            else:
                self.count(*create_row(self.ctx, line, new))
        if untouched:
            self._create(untouched, retry=False)

    def errors(self) -> list[dict[str, Any]]:
        return sorted(self.counts.errors, key=lambda entry: int(entry["line"]))


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
    if job is None or job[jobs.STATUS] == jobs.DONE or job.get(jobs.ERASED):
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
    prepared_rows = [
        None if record.line in recorded else prepare_row(ctx, record) for record in chunk
    ]
    codes = [p.custom_code for p in prepared_rows if isinstance(p, NewLink) and p.custom_code]
    held = _read_many(client, config.table_name, codes, ("owner_id", "original_url", "status"))
    outcomes = _Rows(ctx, held)
    processed = 0
    for record, prepared in zip(chunk, prepared_rows, strict=True):
        if processed and out_of_time():
            break
        if prepared is None:
            outcomes.count("created", None)
        elif isinstance(prepared, NewLink):
            outcomes.add(record.line, prepared)
        else:
            outcomes.count("failed", prepared)
        cursor, line = record.end, record.line + 1
        processed += 1
    outcomes.flush()
    counts = outcomes.counts
    counts.errors = outcomes.errors()
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
    if not committed and _erased_meanwhile(ctx, now()):
        return ChunkOutcome(done=True, committed=False, rows=processed)
    return ChunkOutcome(done=done, committed=committed, rows=processed)


def _erased_meanwhile(ctx: _Context, at: float) -> bool:
    """The owner's account was erased while this chunk ran: the links it created may have been
    made after the erasure listed the owner's links, so they are deleted here (as the erasure
    does). True if so: the job stops."""
    job = jobs.get_job(ctx.client, ctx.config.table_name, ctx.job_id)
    if job is None or not job.get(jobs.ERASED):
        return False
    service.delete_owned_links(ctx.client, ctx.config, ctx.owner_id, at)
    return True


__all__ = ["ChunkOutcome", "HeaderError", "run_chunk"]

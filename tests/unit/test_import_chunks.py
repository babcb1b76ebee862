"""The chunk processor: exact counts, per-line errors, never a row created twice
(docs/api.md section 9: "An import is resumable and never creates a row twice")."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

from shared.contracts.table import OWNER_INDEX, import_row_key
from shared.imports import jobs, processor
from shared.imports.formats import HeaderError
from shared.links import service
from shared.links.models import CreateLinkRequest
from shared.settings import settings

OWNER, OTHER = "owner-1", "owner-2"


def csv_file(rows: list[str]) -> bytes:
    header = "original_url,custom_code,title,tags,ttl_hours,redirect_type\n"
    return (header + "".join(f"{row}\n" for row in rows)).encode()


def opener(data: bytes):
    def open_at(offset: int) -> io.BytesIO:
        return io.BytesIO(data[offset:])

    return open_at


def new_job(client: Any, fmt: str = "csv", owner: str = OWNER) -> str:
    config = settings()
    job_id = jobs.create_job(client, config.table_name, owner_id=owner, fmt=fmt, now=time.time())
    assert jobs.start_job(client, config.table_name, job_id, total=0, now=time.time())
    return job_id


def run(client: Any, job_id: str, data: bytes, **options: Any) -> processor.ChunkOutcome:
    config = settings()
    return processor.run_chunk(
        client,
        config,
        service.url_policy(config),
        job_id,
        opener(data),
        now=time.time,
        **options,
    )


def run_to_end(client: Any, job_id: str, data: bytes, max_rows: int = 3) -> int:
    chunks = 0
    while not run(client, job_id, data, max_rows=max_rows).done:
        chunks += 1
        assert chunks < 1000
    return chunks + 1


def view(client: Any, job_id: str) -> dict[str, Any]:
    job = jobs.get_job(client, settings().table_name, job_id)
    assert job is not None
    return jobs.job_view(job_id, job)


def owner_links(client: Any, owner: str = OWNER) -> list[dict[str, Any]]:
    answer = client.query(
        TableName=settings().table_name,
        IndexName=OWNER_INDEX,
        KeyConditionExpression="owner_id = :o",
        ExpressionAttributeValues={":o": {"S": owner}},
    )
    return answer["Items"]


ROWS = [
    "https://example.com/a,code-a,A,,,",  # 2 created
    "https://example.com/b,,B,,,",  # 3 created (generated code)
    "http://127.0.0.1/x,,,,,",  # 4 failed InvalidUrl private_address
    "https://example.com/b,,B,,,",  # 5 skipped: dedup returns line 3's link
    "https://example.com/c,taken-1,,,,",  # 6 failed ConflictError (another owner's)
    "https://example.com/a,code-a,A,,,",  # 7 skipped: already this owner's, same URL
    "https://example.com/d,code-a,,,,",  # 8 failed ConflictError (this owner's, other URL)
    "https://example.com/e,,,,0,",  # 9 failed ValidationError out_of_range
    # 10 created; run again, dedup would not reuse it (a later expiry): only its marker stops
    # a second link
    "https://example.com/t,,,,24,",
]


@pytest.fixture
def taken(dynamodb: Any) -> Any:
    config = settings()
    request = CreateLinkRequest(original_url="https://other.example/", custom_code="taken-1")
    service.create_link(
        dynamodb, config, service.url_policy(config), request, owner_id=OTHER, now=time.time()
    )
    return dynamodb


def test_counts_and_errors_with_line_numbers(taken: Any) -> None:
    job_id = new_job(taken)
    run_to_end(taken, job_id, csv_file(ROWS))
    result = view(taken, job_id)
    assert result["status"] == "done"
    assert (result["created"], result["skipped"], result["failed"]) == (3, 2, 4)
    assert result["errors"] == [
        {"line": 4, "error": "InvalidUrl", "reason": "private_address", "field": "original_url"},
        {"line": 6, "error": "ConflictError", "reason": "taken"},
        {"line": 8, "error": "ConflictError", "reason": "taken"},
        {"line": 9, "error": "ValidationError", "reason": "out_of_range", "field": "ttl_hours"},
    ]
    assert result["errors_truncated"] is False
    assert len(owner_links(taken)) == 3


def test_running_every_chunk_twice_creates_nothing_twice(
    taken: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk is delivered twice: the second attempt reads the job as the first one found
    it (same cursor), does the same rows again and its commit is refused."""
    job_id = new_job(taken)
    data = csv_file(ROWS)
    config = settings()
    real_get_job = jobs.get_job
    while True:
        snapshot = real_get_job(taken, config.table_name, job_id)
        first = run(taken, job_id, data, max_rows=3)
        assert first.committed
        monkeypatch.setattr(jobs, "get_job", lambda *args, seen=snapshot: seen)
        again = run(taken, job_id, data, max_rows=3)
        monkeypatch.setattr(jobs, "get_job", real_get_job)
        assert again.rows == first.rows
        # Refused, unless the chunk was empty (the end of the file: nothing to count).
        assert again.committed is (first.rows == 0)
        if first.done:
            break
    result = view(taken, job_id)
    assert (result["created"], result["skipped"], result["failed"]) == (3, 2, 4)
    assert len(owner_links(taken)) == 3


def test_a_crash_mid_chunk_then_a_resume_gives_exact_counts(
    taken: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt creates rows' links and dies before its commit; the resumed run counts
    them as created (their markers say so) and creates no link again."""
    job_id = new_job(taken)
    data = csv_file(ROWS)
    real_create_row = processor.create_row
    calls = {"n": 0}

    def crash_on_the_third_row_alone(ctx: Any, line: int, new: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the worker died")
        return real_create_row(ctx, line, new)

    monkeypatch.setattr(processor, "create_row", crash_on_the_third_row_alone)
    with pytest.raises(RuntimeError):
        run(taken, job_id, data, max_rows=100)
    assert len(owner_links(taken)) == 2  # lines 2 and 3 were created, nothing committed
    assert view(taken, job_id)["created"] == 0
    monkeypatch.setattr(processor, "create_row", real_create_row)
    run_to_end(taken, job_id, data, max_rows=100)
    result = view(taken, job_id)
    assert (result["created"], result["skipped"], result["failed"]) == (3, 2, 4)
    assert len(owner_links(taken)) == 3


def test_a_crash_after_every_write_but_before_the_commit(
    taken: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = new_job(taken)
    data = csv_file(ROWS)
    real_commit = jobs.commit_chunk

    def die(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the worker died before its commit")

    monkeypatch.setattr(jobs, "commit_chunk", die)
    with pytest.raises(RuntimeError):
        run(taken, job_id, data, max_rows=100)
    assert len(owner_links(taken)) == 3
    monkeypatch.setattr(jobs, "commit_chunk", real_commit)
    run_to_end(taken, job_id, data, max_rows=100)
    result = view(taken, job_id)
    assert (result["created"], result["skipped"], result["failed"]) == (3, 2, 4)
    assert len(owner_links(taken)) == 3


def test_custom_code_rows_are_created_33_to_a_transaction(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = new_job(dynamodb)
    rows = [f"https://example.com/batch/{i},batch-{i},Row {i},,," for i in range(100)]
    transactions = []
    real = dynamodb.transact_write_items

    def counted(**request: Any) -> Any:
        transactions.append(len(request["TransactItems"]))
        return real(**request)

    monkeypatch.setattr(dynamodb, "transact_write_items", counted)
    run_to_end(dynamodb, job_id, csv_file(rows), max_rows=1000)
    assert transactions == [99, 99, 99, 3]
    assert view(dynamodb, job_id)["created"] == 100
    assert len(owner_links(dynamodb)) == 100


def test_a_code_already_held_is_decided_without_a_write(taken: Any) -> None:
    job_id = new_job(taken)
    rows = [f"https://example.com/mix/{i},mix-{i},,,," for i in range(10)]
    rows[4] = "https://example.com/c,taken-1,,,,"  # another owner's code, mid-batch
    run_to_end(taken, job_id, csv_file(rows), max_rows=1000)
    result = view(taken, job_id)
    assert (result["created"], result["skipped"], result["failed"]) == (9, 0, 1)
    assert result["errors"] == [{"line": 6, "error": "ConflictError", "reason": "taken"}]
    assert len(owner_links(taken)) == 9


def test_a_stale_commit_is_refused_and_counts_nothing(taken: Any) -> None:
    job_id = new_job(taken)
    data = csv_file(ROWS)
    config = settings()
    stale = jobs.get_job(taken, config.table_name, job_id)
    assert run(taken, job_id, data, max_rows=3).committed
    assert stale is not None
    counts = jobs.ChunkCounts(created=3)
    assert not jobs.commit_chunk(
        taken,
        config.table_name,
        stale,
        cursor=10,
        next_line=2,
        header=[],
        counts=counts,
        done=False,
        now=time.time(),
    )
    assert view(taken, job_id)["created"] == 2  # lines 2-4: two created, one failed


def test_the_marker_of_a_created_row_names_its_link(taken: Any) -> None:
    job_id = new_job(taken)
    run_to_end(taken, job_id, csv_file(ROWS[:1]))
    marker = taken.get_item(
        TableName=settings().table_name, Key={"short_code": {"S": import_row_key(job_id, 2)}}
    )["Item"]
    assert marker["link_code"] == {"S": "code-a"}
    assert "owner_id" not in marker and "original_url" not in marker  # in no index


def test_stored_errors_are_capped_at_1000(dynamodb: Any) -> None:
    job_id = new_job(dynamodb)
    data = csv_file(["ftp://example.com/x,,,,,"] * 1003)
    run_to_end(dynamodb, job_id, data, max_rows=600)
    result = view(dynamodb, job_id)
    assert result["failed"] == 1003
    assert len(result["errors"]) == 1000
    assert result["errors"][-1]["line"] == 1001
    assert result["errors_truncated"] is True


def test_out_of_time_commits_what_was_done_and_goes_on_later(dynamodb: Any) -> None:
    job_id = new_job(dynamodb)
    rows = [f"https://example.com/p{i},,,,," for i in range(5)]
    data = csv_file(rows)
    ticks = iter([False, False, True])
    first = run(dynamodb, job_id, data, max_rows=100, out_of_time=lambda: next(ticks))
    assert (first.rows, first.done) == (3, False)
    assert view(dynamodb, job_id)["created"] == 3
    run_to_end(dynamodb, job_id, data, max_rows=100)
    assert view(dynamodb, job_id)["created"] == 5
    assert len(owner_links(dynamodb)) == 5


def test_a_header_without_the_url_column_fails_the_chunk(dynamodb: Any) -> None:
    job_id = new_job(dynamodb, fmt="bitly")
    with pytest.raises(HeaderError):
        run(dynamodb, job_id, b"Title,Link\nx,https://bit.ly/abc\n")


def test_owner_of_the_job_owns_the_links(dynamodb: Any) -> None:
    job_id = new_job(dynamodb, owner=OTHER)
    run_to_end(dynamodb, job_id, csv_file(["https://example.com/z,zed-1,,,,"]))
    assert len(owner_links(dynamodb, OTHER)) == 1 and owner_links(dynamodb) == []


def test_a_refused_batch_falls_back_row_by_row_for_the_refused_rows(
    taken: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code taken between the chunk's read of its codes and its write (the read is made to
    miss it here): the batch is refused, its other rows are created by a second batch and the
    taken one gets the links service's answer."""
    job_id = new_job(taken)
    rows = [f"https://example.com/race/{i},race-{i},,,," for i in range(10)]
    rows[4] = "https://example.com/c,taken-1,,,,"
    real_read = processor._read_many
    monkeypatch.setattr(
        processor,
        "_read_many",
        lambda client, table, keys, attributes=(): (
            {} if attributes else real_read(client, table, keys, attributes)
        ),
    )
    transactions = []
    real = taken.transact_write_items

    def counted(**request: Any) -> Any:
        transactions.append(len(request["TransactItems"]))
        return real(**request)

    monkeypatch.setattr(taken, "transact_write_items", counted)
    run_to_end(taken, job_id, csv_file(rows), max_rows=1000)
    result = view(taken, job_id)
    assert (result["created"], result["skipped"], result["failed"]) == (9, 0, 1)
    assert result["errors"] == [{"line": 6, "error": "ConflictError", "reason": "taken"}]
    # The refused batch, the taken row through the links service, the nine others again.
    assert transactions == [30, 3, 27]
    assert len(owner_links(taken)) == 9

"""DELETE /me against import jobs (moto): erasure stops the owner's jobs, a waiting job never
starts, a running one stops, and a chunk racing the erasure leaves no link behind."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.identity import account
from shared.identity.tokens import TokenStore
from shared.imports import jobs
from shared.links import service
from shared.settings import settings
from tests.unit.test_import_worker import aws, invoke, upload

__all__ = ["aws"]

ROWS = b"original_url\n" + b"".join(f"https://example.com/e/{i}\n".encode() for i in range(10))


def erase(dynamodb: Any) -> dict[str, Any]:
    config = settings()
    return account.erase(
        dynamodb,
        config,
        TokenStore(dynamodb, config.table_name),
        owner_id="owner-1",
        remove_user=lambda owner: False,
        now=time.time(),
    )


def live_links(dynamodb: Any) -> list[dict[str, Any]]:
    return list(service.owned_items(dynamodb, settings(), "owner-1"))


def status(dynamodb: Any, job_id: str) -> tuple[str, str | None]:
    job = jobs.get_job(dynamodb, settings().table_name, job_id)
    assert job is not None
    return job[jobs.STATUS], job.get(jobs.MESSAGE)


def test_an_erased_owners_waiting_job_never_starts(aws: Any) -> None:
    dynamodb, _ = aws
    job_id = upload(aws, ROWS)
    assert erase(dynamodb)["imports_stopped"] == 1
    assert status(dynamodb, job_id) == ("failed", "account erased")
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is True
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is True
    assert live_links(dynamodb) == []
    assert status(dynamodb, job_id) == ("failed", "account erased")


def test_a_running_job_stops_and_its_links_are_deleted_by_the_erasure(aws: Any) -> None:
    dynamodb, _ = aws
    job_id = upload(aws, ROWS)
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is False
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is False
    assert len(live_links(dynamodb)) == 4  # the first chunk (CHUNK_ROWS = 4)
    outcome = erase(dynamodb)
    assert outcome["imports_stopped"] == 1 and outcome["links_deleted"] == 4
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is True
    assert live_links(dynamodb) == []
    # A redriven execution cannot resume it either.
    assert invoke({"action": "start", "key": f"uploads/{job_id}"})["done"] is True
    assert live_links(dynamodb) == []
    assert status(dynamodb, job_id) == ("failed", "account erased")


def test_a_chunk_racing_the_erasure_deletes_what_it_created(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb, _ = aws
    job_id = upload(aws, ROWS)
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    real_commit = jobs.commit_chunk

    def erased_before_commit(*args: Any, **kwargs: Any) -> bool:
        # The erasure runs after this chunk created its links, before it commits.
        links_seen = erase(dynamodb)["links_deleted"]
        assert links_seen == 4  # the erasure ran after this chunk's links were created
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(jobs, "commit_chunk", erased_before_commit)
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is True
    assert live_links(dynamodb) == []
    job = jobs.get_job(dynamodb, settings().table_name, job_id)
    assert job is not None and int(job[jobs.CURSOR]) == 0  # the chunk's commit was refused


def test_a_chunk_created_between_listing_and_commit_is_deleted_by_the_worker(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb, _ = aws
    job_id = upload(aws, ROWS)
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    real_commit = jobs.commit_chunk

    def erased_without_links(*args: Any, **kwargs: Any) -> bool:
        # The erasure stops the job but (as if it listed the links before this chunk's were
        # written) deletes none: the worker's own clean-up must remove them.
        jobs.erase_job(dynamodb, settings().table_name, job_id, now=time.time())
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(jobs, "commit_chunk", erased_without_links)
    assert invoke({"action": "chunk", "job_id": job_id})["done"] is True
    assert live_links(dynamodb) == []


def test_the_export_lists_the_owners_import_jobs(aws: Any) -> None:
    dynamodb, _ = aws
    config = settings()
    job_id = upload(aws, b"original_url\nhttps://example.com/x\nnot a url\n")
    invoke({"action": "start", "key": f"uploads/{job_id}"})
    while not invoke({"action": "chunk", "job_id": job_id})["done"]:
        pass
    other = jobs.create_job(dynamodb, config.table_name, owner_id="owner-2", fmt="csv", now=1.0)
    document = account.export(
        dynamodb,
        config,
        TokenStore(dynamodb, config.table_name),
        user={"user_id": "owner-1", "email": None, "groups": []},
        now=time.time(),
    )
    assert [j["id"] for j in document["imports"]] == [job_id]
    assert other not in str(document)
    job = document["imports"][0]
    assert (job["status"], job["created"], job["failed"]) == ("done", 1, 1)
    assert job["errors"][0]["line"] == 3

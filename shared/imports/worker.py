"""The import worker's steps (functions/import_worker in AWS, devserver/imports.py locally).

`start` counts the rows and marks the job running; `chunk` runs one chunk from the cursor;
`fail` marks the job failed, keeping its cursor, so that starting it again resumes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, BinaryIO

from shared.imports import jobs, processor
from shared.imports.formats import HeaderError
from shared.imports.records import count_records
from shared.links.urls import UrlPolicy
from shared.settings import Settings

# An upload larger than this fails its job before a row is read (SQURL_IMPORT_MAX_BYTES).
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def start(
    client: Any,
    config: Settings,
    job_id: str,
    *,
    size: int,
    open_at: Callable[[int], BinaryIO],
    max_bytes: int,
    now: float,
    version: str = "",
) -> bool:
    """True when the job should go on to its chunks; False when it is done or refused."""
    if size > max_bytes:
        jobs.fail_job(
            client,
            config.table_name,
            job_id,
            message=f"PayloadTooLarge: the upload is {size} bytes; the limit is {max_bytes}.",
            now=now,
        )
        return False
    source = open_at(0)
    try:
        total = count_records(source)
    finally:
        source.close()
    return jobs.start_job(
        client, config.table_name, job_id, total=total, now=now, version=version, size=size
    )


def chunk(
    client: Any,
    config: Settings,
    policy: UrlPolicy,
    job_id: str,
    open_at: Callable[[int], BinaryIO],
    *,
    max_rows: int,
    out_of_time: Callable[[], bool],
) -> bool:
    """Run one chunk; True when the job is finished (done, or failed on its header)."""
    try:
        outcome = processor.run_chunk(
            client,
            config,
            policy,
            job_id,
            open_at,
            now=time.time,
            max_rows=max_rows,
            out_of_time=out_of_time,
        )
    except HeaderError as error:
        jobs.fail_job(
            client, config.table_name, job_id, message=f"ValidationError: {error}", now=time.time()
        )
        return True
    return outcome.done


def fail(client: Any, config: Settings, job_id: str, message: str) -> None:
    jobs.fail_job(client, config.table_name, job_id, message=message, now=time.time())

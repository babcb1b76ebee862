"""`squrl import`: one import job per file, remembered so that a second run resumes it.

A job is remembered in `imports.json` (config directory) under the server's URL, the format and
the SHA-256 of the file's bytes. Running `squrl import` again with the same file therefore:
- uploads it, if the first run stopped after creating the job but before the upload finished;
- otherwise only follows the same job to its end (the server never creates a row twice);
- never creates a second job, unless `--restart` forgets the first.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from squrl_cli import config
from squrl_cli.client import Client, ImportJob, SqurlError

FINISHED = frozenset({"done", "failed"})
DEFAULT_POLL_SECONDS = 0.5


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def job_key(base_url: str, format: str, digest: str) -> str:
    return f"{base_url}|{format}|{digest}"


@dataclass
class ImportRun:
    client: Client
    path: Path
    format: str
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = DEFAULT_POLL_SECONDS

    def __post_init__(self) -> None:
        self.key = job_key(self.client.base_url, self.format, file_digest(self.path))
        self.resumed = False

    def _remembered(self) -> dict[str, Any] | None:
        entry = config.read_json(config.IMPORTS_FILE).get(self.key)
        return entry if isinstance(entry, dict) else None

    def _remember(self, entry: dict[str, Any] | None) -> None:
        jobs = config.read_json(config.IMPORTS_FILE)
        if entry is None:
            jobs.pop(self.key, None)
        else:
            jobs[self.key] = entry
        config.write_json(config.IMPORTS_FILE, jobs)

    def forget(self) -> None:
        self._remember(None)

    def start(self) -> ImportJob:
        """The job for this file: the remembered one (uploaded if it is still waiting), or a
        new one, created, remembered and uploaded."""
        entry = self._remembered()
        job: ImportJob | None = None
        if entry is not None:
            try:
                job = self.client.get_import(entry["id"])
                self.resumed = True
            except SqurlError as error:
                if error.status != 404:
                    raise
                entry = None
        if entry is None or job is None:
            created = self.client.create_import(self.format)  # type: ignore[arg-type]
            entry = {
                "id": created["id"],
                "upload_url": created["upload_url"],
                "uploaded": False,
                "file": str(self.path),
                "format": self.format,
            }
            self._remember(entry)
            job = {"id": created["id"], "status": "waiting"}
        if job.get("status") == "waiting" and not entry.get("uploaded"):
            self._upload(entry)
            job = self.client.get_import(entry["id"])
        elif not entry.get("uploaded"):
            # The job moved on, so the server has the file: an earlier run's answer was lost.
            entry["uploaded"] = True
            self._remember(entry)
        return job

    def _upload(self, entry: dict[str, Any]) -> None:
        try:
            self.client.upload_import(entry["upload_url"], self.path.read_bytes())
        except SqurlError as error:
            if error.status == 409:
                # The server already has this job's file: an earlier run's answer was lost.
                entry["uploaded"] = True
                self._remember(entry)
                return
            if not self.resumed or error.status not in (400, 403, 404):
                raise
            # The remembered pre-signed URL has expired: a new job, uploaded at once.
            created = self.client.create_import(self.format)  # type: ignore[arg-type]
            entry.update(id=created["id"], upload_url=created["upload_url"])
            self._remember(entry)
            self.client.upload_import(entry["upload_url"], self.path.read_bytes())
        entry["uploaded"] = True
        self._remember(entry)

    def follow(self, job: ImportJob, on_progress: Callable[[ImportJob], None]) -> ImportJob:
        """Poll until the job is done or failed, reporting every state seen."""
        on_progress(job)
        while job.get("status") not in FINISHED:
            self.sleep(self.poll_seconds)
            job = self.client.get_import(job["id"])
            on_progress(job)
        return job


def processed(job: ImportJob) -> int:
    return int(job.get("created", 0)) + int(job.get("skipped", 0)) + int(job.get("failed", 0))

"""Import jobs on `make dev`: the upload URL's PUT and a background worker (docs/imports.md).

`POST /imports` hands out `/_local/uploads/<id>?expires=...&signature=...` (an HMAC with a
secret kept in the data directory, so URLs survive a restart). A PUT there stores the file
durably under `<data dir>/imports/` (written, flushed, synced, then renamed into place) and
queues the job. One worker thread runs the same chunk code as the Step Functions worker, one job
at a time; at start, every stored upload whose job is not finished is queued again, and resumes
from its cursor.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config

from devserver.lambda_shapes import ProxyResult, error_result
from shared.imports import jobs, worker
from shared.imports.processor import DEFAULT_CHUNK_ROWS
from shared.imports.uploads import LOCAL_UPLOADS_PATH, local_signature_ok
from shared.links import service
from shared.settings import settings

# The local server reads whole request bodies, so an upload is capped at the gateway's body
# limit (devserver.gateway.MAX_GATEWAY_BODY); in AWS the worker's limit is SQURL_IMPORT_MAX_BYTES.
SUFFIX = ".upload"
# The requests are built by squrl's own code: botocore's parameter validation is a quarter of
# the worker's time and checks nothing the code does not already guarantee.
WORKER_CLIENT = Config(parameter_validation=False)


class LocalImports:
    def __init__(self, data_dir: Path, *, max_bytes: int, fresh: bool = False):
        self.directory = data_dir / "imports"
        if fresh:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        secret_file = self.directory / "upload-secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        self.secret = secret_file.read_text().strip()
        self.max_bytes = max_bytes
        self.chunk_rows = int(os.environ.get("SQURL_IMPORT_CHUNK_ROWS", str(DEFAULT_CHUNK_ROWS)))
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imports", daemon=True)
        self._lock = threading.Lock()
        self._client: Any = None  # the upload handler's DynamoDB client, made on first use

    def environment(self, base_url: str) -> dict[str, str]:
        """What the imports function needs to hand out local upload URLs."""
        return {
            "SQURL_LOCAL_UPLOADS_URL": f"{base_url}{LOCAL_UPLOADS_PATH.rstrip('/')}",
            "SQURL_LOCAL_UPLOADS_SECRET": self.secret,
        }

    def path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}{SUFFIX}"

    # The upload ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes) -> ProxyResult:
        parts = urlsplit(target)
        job_id = parts.path[len(LOCAL_UPLOADS_PATH) :]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method != "PUT":
            return error_result(405, "MethodNotAllowed", "Upload with PUT.", {"Allow": "PUT"})
        signed = local_signature_ok(
            self.secret,
            job_id,
            query.get("expires", ""),
            query.get("signature", ""),
            time.time(),
        )
        if jobs.JOB_ID.fullmatch(job_id) is None or not signed:
            return error_result(403, "Forbidden", "The upload URL is not valid or has expired.")
        if len(body) > self.max_bytes:
            return error_result(
                413, "PayloadTooLarge", f"An upload is at most {self.max_bytes} bytes locally."
            )
        if not self._waiting(job_id):
            return error_result(409, "ConflictError", "This import no longer takes an upload.")
        with self._lock:
            if self.path(job_id).exists():
                return error_result(409, "ConflictError", "This import's file was uploaded.")
            self._store(job_id, body)
        self._queue.put(job_id)
        return ProxyResult(200, {"Content-Type": "application/json"}, json.dumps({}).encode())

    def _waiting(self, job_id: str) -> bool:
        """Only a waiting job takes its upload: an erased owner's job (failed, `account
        erased`) or a finished one does not."""
        if self._client is None:
            self._client = boto3.client(
                "dynamodb", region_name=settings().home_region, config=WORKER_CLIENT
            )
        job = jobs.get_job(self._client, settings().table_name, job_id)
        return job is not None and job[jobs.STATUS] == jobs.WAITING

    def _store(self, job_id: str, body: bytes) -> None:
        partial = self.directory / f"{job_id}.partial"
        with partial.open("wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(self.path(job_id))
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    # The worker ------------------------------------------------------------------------------

    def start(self) -> LocalImports:
        for upload in sorted(self.directory.glob(f"*{SUFFIX}")):
            self._queue.put(upload.name.removesuffix(SUFFIX))
        self._thread.start()
        return self

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        # Its own client: boto3 clients are made per thread here.
        client = boto3.client("dynamodb", region_name=settings().home_region, config=WORKER_CLIENT)
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._import(client, job_id)
            except Exception as error:  # a job's failure must not stop the worker
                if self._stopping.is_set():
                    return  # stopped mid-chunk: the job resumes at the next start
                worker.fail(client, settings(), job_id, f"InternalServerError: {error}")

    def _open_at(self, job_id: str) -> Callable[[int], BinaryIO]:
        def open_at(offset: int) -> BinaryIO:
            source = self.path(job_id).open("rb")
            source.seek(offset)
            return source

        return open_at

    def _import(self, client: Any, job_id: str) -> None:
        config = settings()
        job = jobs.get_job(client, config.table_name, job_id)
        if job is None or job[jobs.STATUS] in (jobs.DONE, jobs.FAILED):
            return
        open_at = self._open_at(job_id)
        size = self.path(job_id).stat().st_size
        if not worker.start(
            client,
            config,
            job_id,
            size=size,
            open_at=open_at,
            max_bytes=self.max_bytes,
            now=time.time(),
            version="local",
        ):
            return
        policy = service.url_policy(config)
        done = False
        while not done and not self._stopping.is_set():
            done = worker.chunk(
                client,
                config,
                policy,
                job_id,
                open_at,
                max_rows=self.chunk_rows,
                out_of_time=self._stopping.is_set,
            )

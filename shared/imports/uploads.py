"""Where an import's file is uploaded: a pre-signed S3 PUT in AWS, a signed local URL on
`make dev` (docs/imports.md). Chosen by the function's environment."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any
from urllib.parse import urlencode

from shared.imports.jobs import upload_key

# How long an upload URL stays valid (SQURL_IMPORT_URL_SECONDS).
DEFAULT_URL_SECONDS = 3600
LOCAL_UPLOADS_PATH = "/_local/uploads/"


def is_local() -> bool:
    return bool(os.environ.get("SQURL_LOCAL_UPLOADS_URL"))


def url_seconds() -> int:
    return int(os.environ.get("SQURL_IMPORT_URL_SECONDS", str(DEFAULT_URL_SECONDS)))


def local_signature(secret: str, job_id: str, expires: int) -> str:
    message = f"PUT\n{job_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def local_signature_ok(secret: str, job_id: str, expires: str, signature: str, now: float) -> bool:
    if not expires.isdigit() or int(expires) < now:
        return False
    return hmac.compare_digest(local_signature(secret, job_id, int(expires)), signature)


def upload_url(job_id: str, now: float, s3_client: Any | None = None) -> str:
    """A URL that accepts one PUT of the job's file, valid for url_seconds()."""
    if is_local():
        local_base = os.environ["SQURL_LOCAL_UPLOADS_URL"]
        expires = int(now) + url_seconds()
        secret = os.environ["SQURL_LOCAL_UPLOADS_SECRET"]
        query = urlencode(
            {"expires": expires, "signature": local_signature(secret, job_id, expires)}
        )
        return f"{local_base.rstrip('/')}/{job_id}?{query}"
    if s3_client is None:
        raise RuntimeError("no S3 client for a pre-signed upload URL")
    return str(
        s3_client.generate_presigned_url(
            "put_object",
            Params={"Bucket": os.environ["SQURL_IMPORT_BUCKET"], "Key": upload_key(job_id)},
            ExpiresIn=url_seconds(),
            HttpMethod="PUT",
        )
    )

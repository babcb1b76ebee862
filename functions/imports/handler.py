"""POST /imports and GET /imports/{id} (docs/api.md section 9, docs/imports.md).

The job is written to the home region's table and the upload URL is pre-signed for the home
region's bucket, from whichever region serves the request: imports are single-homed like every
other write (docs/api.md section 5).
"""

from __future__ import annotations

import base64
import time
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import ValidationError as PydanticValidationError

from shared.imports import jobs, uploads
from shared.imports.formats import FORMATS
from shared.imports.schemas import CreateImportRequest
from shared.links.api import build_resolver, dynamodb, json_response, logger, owner_id, tracer
from shared.links.errors import NotFound, ValidationError
from shared.links.models import json_object
from shared.settings import settings

config = settings()
app = build_resolver()


@lru_cache(maxsize=1)
def s3() -> Any:
    # Signature v4 with the bucket's region: a URL signed for the wrong region is refused.
    return boto3.client(
        "s3",
        region_name=config.home_region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


def parse_request(body: bytes) -> CreateImportRequest:
    data = json_object(body)
    try:
        return CreateImportRequest.model_validate(data)
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "format"
        if error["type"] == "extra_forbidden":
            raise ValidationError(
                f"Unknown field {field!r}.", field=field, reason="unknown_field"
            ) from None
        if error["type"] == "missing":
            raise ValidationError(
                "format is required.", field="format", reason="required"
            ) from None
        raise ValidationError(
            f"format must be one of {', '.join(FORMATS)}.", field="format", reason="not_allowed"
        ) from None


@app.post("/imports")
@tracer.capture_method
def create_import() -> Response:
    event = app.current_event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    request = parse_request(body)
    owner, now = owner_id(app), time.time()
    job_id = jobs.create_job(
        dynamodb(config.home_region), config.table_name, owner_id=owner, fmt=request.format, now=now
    )
    url = uploads.upload_url(job_id, now, s3_client=None if uploads.is_local() else s3())
    logger.info("import created", extra={"import_id": job_id, "format": request.format})
    return json_response(201, {"id": job_id, "upload_url": url}, {"Location": f"/imports/{job_id}"})


@app.get("/imports/<job_id>")
@tracer.capture_method
def get_import(job_id: str) -> Response:
    owner = owner_id(app)
    # Read where it is written: a job's counters change every chunk, in the home region.
    job = jobs.get_job(dynamodb(config.home_region), config.table_name, job_id)
    if job is None or job.get(jobs.OWNER) != owner:
        raise NotFound("No such import.")
    return json_response(200, jobs.job_view(job_id, job))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

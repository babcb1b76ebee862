"""The import routes' bodies as pydantic models (docs/api.md section 9, docs/imports.md): the
request POST /imports is validated with and the answers of both routes. The OpenAPI document
(shared/openapi.py) is generated from them; unit tests validate real answers against them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_ID_PATTERN = "^[0-9a-f]{32}$"
ImportFormat = Literal["csv", "bitly", "yourls", "kutt", "shlink", "dub"]


class CreateImportRequest(BaseModel):
    """POST /imports."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: ImportFormat


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatedImport(_Answer):
    id: str = Field(pattern=JOB_ID_PATTERN)
    upload_url: str = Field(
        description="Where to PUT the export (pre-signed; locally a URL on the local server)."
    )


class ImportRowError(_Answer):
    line: int = Field(ge=1, description="The line of the file.")
    error: str = Field(description="The spec's error code, e.g. ValidationError, InvalidUrl.")
    reason: str | None = Field(default=None, description="details.reason of that error.")
    field: str | None = Field(default=None, description="details.field of that error.")


class ImportJob(_Answer):
    """An import job as GET /imports/{id} shows it."""

    id: str = Field(pattern=JOB_ID_PATTERN)
    status: Literal["waiting", "running", "done", "failed"]
    format: ImportFormat
    total: int = Field(ge=0, description="Data rows in the file (0 until it is read).")
    created: int = Field(ge=0)
    skipped: int = Field(ge=0, description="Rows whose link exists already (resumed or reused).")
    failed: int = Field(ge=0)
    errors: list[ImportRowError] = Field(description="By line; the first 1000 at most.")
    errors_truncated: bool = Field(description="true when `failed` counts more than `errors`.")
    created_at: str = Field(description="ISO 8601 UTC, ending in Z.")
    updated_at: str = Field(description="ISO 8601 UTC, ending in Z.")
    message: str | None = Field(default=None, description="Why a failed job failed.")

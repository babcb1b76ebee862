"""POST /imports and GET /imports/{id} through the handler, as API Gateway invokes it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.imports import handler as imports_module
from tests.unit.events import context, event

BUCKET = "squrl-test-imports-000000000000-us-east-1"


@pytest.fixture
def imports(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SQURL_IMPORT_BUCKET", BUCKET)
    monkeypatch.delenv("SQURL_LOCAL_UPLOADS_URL", raising=False)
    monkeypatch.setattr(imports_module, "dynamodb", lambda region: dynamodb)
    return dynamodb


def call(method: str, path: str, body: Any = None, owner: str = "owner-1") -> tuple[int, Any]:
    response = imports_module.handler(event(method, path, body, owner=owner), context())
    return response["statusCode"], json.loads(response["body"])


def test_create_returns_a_presigned_put_for_the_jobs_key(imports: Any) -> None:
    status, body = call("POST", "/imports", {"format": "shlink"})
    assert status == 201 and set(body) == {"id", "upload_url"}
    url = urlsplit(body["upload_url"])
    assert BUCKET in url.netloc + url.path
    assert url.path.endswith(f"/uploads/{body['id']}")
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
    status, job = call("GET", f"/imports/{body['id']}")
    assert status == 200
    assert (job["status"], job["format"], job["total"], job["errors"]) == (
        "waiting",
        "shlink",
        0,
        [],
    )


def test_only_the_owner_sees_a_job(imports: Any) -> None:
    _, body = call("POST", "/imports", {"format": "csv"})
    status, error = call("GET", f"/imports/{body['id']}", owner="owner-2")
    assert (status, error["error"]) == (404, "NotFound")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"format": "xlsx"}, "not_allowed"),
        ({}, "required"),
        ({"format": "csv", "bucket": "x"}, "unknown_field"),
        ({"format": 1}, "not_allowed"),
    ],
)
def test_bad_bodies_are_validation_errors_and_store_nothing(
    imports: Any, body: dict[str, Any], reason: str
) -> None:
    status, error = call("POST", "/imports", body)
    assert (status, error["error"], error["details"]["reason"]) == (400, "ValidationError", reason)
    assert imports.scan(TableName="squrl-urls-test")["Count"] == 0

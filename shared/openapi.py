"""The whole API's OpenAPI document: the links' operations (shared/links/openapi.py) and the
identity and import routes' (docs/api.md sections 8 and 9), whose models live in layers above
links (shared/identity/schemas.py, shared/imports/schemas.py) and so are described here, above
both. `make openapi` writes it to docs/openapi.json; get_url serves it at GET /openapi.json.

Every route of ROUTES has an entry of OPERATIONS (tests/unit/test_openapi.py fails otherwise).
"""

from __future__ import annotations

from typing import Any

from shared.identity.schemas import (
    TOKEN_ID_PATTERN,
    AccountExport,
    CreatedToken,
    CreateTokenRequest,
    Me,
    TokenList,
)
from shared.imports.schemas import JOB_ID_PATTERN, CreatedImport, CreateImportRequest, ImportJob
from shared.links import openapi
from shared.links.models import MAX_BODY_BYTES
from shared.links.openapi import BODY_ERRORS, Body, Operation


def _follow(operation_id: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {"id": "$response.body#/id"}}


IDENTITY: dict[tuple[str, str], Operation] = {
    ("POST", "/tokens"): Operation(
        "createToken",
        "Create a personal token",
        "identity",
        {
            201: Body(
                "Created: `token` is the secret, shown this once.",
                CreatedToken,
                headers=("Location",),
                links={"RevokeToken": _follow("revokeToken")},
            )
        },
        errors=BODY_ERRORS,
        request=CreateTokenRequest,
        body_limit=MAX_BODY_BYTES,
        description="Any signed-in caller; a token may only grant scopes it has itself "
        "(400, `details.reason` `scope`). At most 50 live tokens (400 `too_many_tokens`) and 20 "
        "creations an hour (429 with Retry-After).",
    ),
    ("GET", "/tokens"): Operation(
        "listTokens",
        "The caller's live tokens, without secrets",
        "identity",
        {200: Body("The tokens, newest first.", TokenList)},
    ),
    ("DELETE", "/tokens/{id}"): Operation(
        "revokeToken",
        "Revoke one of the caller's tokens",
        "identity",
        {204: Body("Revoked: refused from now on (in AWS within the authorizer cache's TTL).")},
        errors=(404,),
        path={"id": {"type": "string", "pattern": TOKEN_ID_PATTERN}},
    ),
    ("GET", "/me"): Operation(
        "getMe",
        "Who the caller is",
        "identity",
        {200: Body("The caller.", Me)},
    ),
    ("GET", "/me/export"): Operation(
        "exportMe",
        "Everything the caller has, as one document",
        "identity",
        {200: Body("Every link (with stats and history) and token (no secrets).", AccountExport)},
    ),
    ("DELETE", "/me"): Operation(
        "deleteMe",
        "Erase the caller: its links, its tokens and its user",
        "identity",
        {204: Body("Erased: the links deleted (their codes never reassigned), tokens revoked.")},
    ),
}

IMPORTS: dict[tuple[str, str], Operation] = {
    ("POST", "/imports"): Operation(
        "createImport",
        "Start an import from another shortener's export",
        "imports",
        {
            201: Body(
                "Created: PUT the file to `upload_url`; the import then runs in the background.",
                CreatedImport,
                headers=("Location",),
                links={"GetImport": _follow("getImport")},
            )
        },
        errors=BODY_ERRORS,
        request=CreateImportRequest,
        body_limit=MAX_BODY_BYTES,
    ),
    ("GET", "/imports/{id}"): Operation(
        "getImport",
        "An import job's progress",
        "imports",
        {200: Body("The job.", ImportJob)},
        errors=(404,),
        path={"id": {"type": "string", "pattern": JOB_ID_PATTERN}},
    ),
}

OPERATIONS: dict[tuple[str, str], Operation] = {**openapi.OPERATIONS, **IDENTITY, **IMPORTS}


def build() -> dict[str, Any]:
    return openapi.build(OPERATIONS)


def document_text() -> str:
    return openapi.document_text(OPERATIONS)

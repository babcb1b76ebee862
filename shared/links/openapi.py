"""The OpenAPI 3.1 document of squrl's HTTP API, generated from the route table
(shared/contracts/routes.py) and the pydantic models the handlers validate with
(shared/links/models.py, shared/links/qr.py) and answer in (shared/links/schemas.py).

The links' operations are here; shared/openapi.py adds the identity and import routes' and is
the document served and committed. Every route of ROUTES appears. What the document says about
each one beyond the table (its request body, query, headers, answers and errors) is one entry of
OPERATIONS, keyed by (method, resource); a route without an entry still appears, with its path
parameters, its security and the errors every route of its kind can give (a unit test fails
until it has its entry). To
document a new links route, add its models to shared/links/schemas.py and one Operation here
(another route: shared/openapi.py), then run `make openapi` (docs/developer-surface.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from shared.contracts.codes import MAX_CODE_LENGTH
from shared.contracts.http import METHOD_NOT_ALLOWED, REDIRECT_STATUSES
from shared.contracts.link_state import LISTED_STATES
from shared.contracts.routes import ROUTES, Route
from shared.links import listing, qr
from shared.links.codes import CUSTOM_CODE
from shared.links.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.links.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER
from shared.links.models import (
    MAX_BODY_BYTES,
    MAX_BULK_BODY_BYTES,
    TAG,
    CreateLinkRequest,
    UpdateLinkRequest,
)
from shared.links.schemas import (
    BulkCreateBody,
    BulkCreateResponse,
    Error,
    Health,
    History,
    Link,
    LinkPage,
    LinkStats,
)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
SCHEMAS = "#/components/schemas/"

# What each error status means on squrl's API (docs/api.md sections 2, 7 and 9).
ERROR_MEANINGS = {
    400: "ValidationError or InvalidUrl; `details.reason` names the rule, `details.field` the "
    "field or parameter.",
    403: "Forbidden: no valid credential, or a token without the route's scope.",
    404: "NotFound: no such link, token or import, or not the caller's.",
    409: "ConflictError (the custom code is taken) or IdempotencyConflict (the same "
    "Idempotency-Key is still in flight).",
    410: "Gone: the link expired, was disabled or deleted.",
    412: "PreconditionFailed: If-Match names another version; nothing changed.",
    413: "PayloadTooLarge: the body is over the route's limit.",
    422: "IdempotencyKeyReused: the Idempotency-Key came with another body.",
    429: "RateLimitExceeded: throttled (or, for POST /tokens, over 20 tokens created in an "
    "hour); wait for Retry-After seconds.",
    500: "InternalServerError: never a stack trace.",
}
# Every keyed route can be refused, throttled or fail; a route with a body can also be too big.
KEYED_ERRORS = (403, 429, 500)
PUBLIC_ERRORS = (429, 500)
BODY_ERRORS = (400, 413)

# What the models' validators check beyond their types, stated for clients (the validators
# stay the authority: a body the document allows may still be refused with a reason).
_NOT_NULL = {"original_url", "custom_code", "ttl_hours", "redirect_type", "status", "tags"}
_REFINED = {
    "custom_code": {"pattern": f"^{CUSTOM_CODE.pattern}$"},
    "redirect_type": {"enum": list(REDIRECT_STATUSES)},
    "original_url": {
        "minLength": 1,
        "format": "uri",
        # The scheme in any letter case (docs/api.md section 3); JSON Schema patterns take no flags.
        "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
        "description": "An absolute http(s) URL, scheme in any case (docs/api.md section 3); "
        "stored normalized.",
        "examples": ["https://example.com/a/long/path?utm_source=newsletter"],
    },
    "expires_at": {"format": "date-time"},
}
_TAGS_ITEMS = {"type": "string", "pattern": f"^{TAG.pattern}$"}


@dataclass(frozen=True)
class Body:
    """One answer: a status, an optional model (JSON) or media types, and headers."""

    description: str
    model: type[BaseModel] | None = None
    media: dict[str, dict[str, Any]] | None = None
    headers: tuple[str, ...] = ()
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What the document says about one route, beyond the route table."""

    operation_id: str
    summary: str
    tag: str
    answers: dict[int, Body]
    errors: tuple[int, ...] = ()
    request: type[BaseModel] | None = None
    body_limit: int | None = None
    query: tuple[dict[str, Any], ...] = ()
    headers: tuple[str, ...] = ()
    description: str = ""
    # Path parameters' schemas by name; a link's `{code}` when not named here.
    path: dict[str, dict[str, Any]] = field(default_factory=dict)


# Header parameters and response headers by name.
REQUEST_HEADERS: dict[str, dict[str, Any]] = {
    IDEMPOTENCY_HEADER: {
        "description": "Sent again with the same body within 24 hours, the first answer is "
        "replayed (with Idempotent-Replayed: true); nothing is created twice.",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY_LENGTH,
            "pattern": "^[\\x20-\\x7e]+$",
        },
    },
    "If-Match": {
        "description": 'The ETag the caller saw ("3"): a stale one is 412 and changes nothing.',
        "schema": {"type": "string"},
    },
    "If-None-Match": {
        "description": "An ETag from an earlier answer: 304 when it still matches.",
        "schema": {"type": "string"},
    },
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "Location": {"description": "Where the answer points.", "schema": {"type": "string"}},
    "ETag": {"description": "The representation's entity tag.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long it may be kept.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}},
    REPLAYED_HEADER: {
        "description": "true when this is the first answer to an earlier request with the same "
        "Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "X-Short-Code": {"description": "The code that answered.", "schema": {"type": "string"}},
}


def _link_to(operation_id: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {"code": "$response.body#/short_code"}}


# The stateful links from a created (or reused) link to what can be done with it next.
LINK_FOLLOW_UPS = {
    "GetLink": _link_to("getLink"),
    "UpdateLink": _link_to("updateLink"),
    "DeleteLink": _link_to("deleteLink"),
    "GetLinkHistory": _link_to("getLinkHistory"),
    "GetLinkQr": _link_to("getLinkQr"),
}

_CREATED = Body("Created.", Link, headers=("Location", REPLAYED_HEADER), links=LINK_FOLLOW_UPS)
_REUSED = Body(
    "The caller's existing link for the same URL and options (deduplication).",
    Link,
    headers=("Location", REPLAYED_HEADER),
    links=LINK_FOLLOW_UPS,
)
_CREATE = {
    "summary": "Shorten a URL",
    "tag": "links",
    "answers": {201: _CREATED, 200: _REUSED},
    "errors": (*BODY_ERRORS, 409, 422),
    "request": CreateLinkRequest,
    "body_limit": MAX_BODY_BYTES,
    "headers": (IDEMPOTENCY_HEADER,),
}
_LIST_QUERY = (
    {
        "name": "limit",
        "description": f"Links a page (default {listing.DEFAULT_LIMIT}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": listing.MAX_LIMIT},
    },
    {
        "name": "cursor",
        "description": "next_cursor of the previous page.",
        "schema": {"type": "string", "maxLength": listing.MAX_CURSOR_LENGTH},
    },
    {"name": "status", "schema": {"type": "string", "enum": list(LISTED_STATES)}},
    {"name": "tag", "schema": {"type": "string", "pattern": f"^{TAG.pattern}$"}},
)
_HTML_OR_JSON = {
    "application/json": {"schema": {"$ref": SCHEMAS + "Error"}},
    "text/html": {"schema": {"type": "string"}},
}

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/urls"): Operation("createLink", **_CREATE),  # type: ignore[arg-type]
    ("POST", "/create"): Operation(
        "createLinkAlias",
        **{**_CREATE, "summary": "Shorten a URL (milestone 1's path)"},  # type: ignore[arg-type]
    ),
    ("POST", "/urls/bulk"): Operation(
        "createLinks",
        "Shorten up to 100 URLs",
        "links",
        {200: Body("One result per item, in order.", BulkCreateResponse)},
        errors=(*BODY_ERRORS, 409, 422),
        request=BulkCreateBody,
        body_limit=MAX_BULK_BODY_BYTES,
        headers=(IDEMPOTENCY_HEADER,),
        description="Each item is a POST /urls body and gets that route's answer as its "
        "result: `{status: 201|200, link}` or `{status: 4xx, error}`. A bad item never stops "
        "the others; the request itself is 400 only when `items` is not a list of 1 to 100. "
        "Each item may be 8 KiB, the whole body 1 MiB.",
    ),
    ("GET", "/urls"): Operation(
        "listLinks",
        "List the caller's links, newest first",
        "links",
        {200: Body("A page of links.", LinkPage)},
        errors=(400,),
        query=_LIST_QUERY,
    ),
    ("GET", "/urls/{code}"): Operation(
        "getLink",
        "One of the caller's links",
        "links",
        {200: Body("The link.", Link, headers=("ETag",))},
        errors=(404,),
    ),
    ("PATCH", "/urls/{code}"): Operation(
        "updateLink",
        "Change a link",
        "links",
        {200: Body("The whole link after the change.", Link, headers=("ETag",))},
        errors=(*BODY_ERRORS, 404, 412),
        request=UpdateLinkRequest,
        body_limit=MAX_BODY_BYTES,
        headers=("If-Match",),
    ),
    ("DELETE", "/urls/{code}"): Operation(
        "deleteLink",
        "Delete a link; its code is never assigned again",
        "links",
        {204: Body("Deleted.")},
        errors=(400, 404, 412),
        headers=("If-Match",),
    ),
    ("GET", "/urls/{code}/stats"): Operation(
        "getLinkStats",
        "A link's click statistics",
        "stats",
        {200: Body("Counters.", LinkStats)},
        errors=(404,),
    ),
    ("GET", "/urls/{code}/history"): Operation(
        "getLinkHistory",
        "A link's changes, oldest first",
        "links",
        {200: Body("The history.", History)},
        errors=(404,),
    ),
    ("GET", "/urls/{code}/qr"): Operation(
        "getLinkQr",
        "The link's short URL as a QR code",
        "links",
        {
            200: Body(
                "The QR code. PNG through API Gateway needs `Accept: image/png`.",
                media={
                    "image/svg+xml": {"schema": {"type": "string"}},
                    "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
                },
                headers=("ETag", "Cache-Control"),
            ),
            304: Body("If-None-Match matched: not modified.", headers=("ETag", "Cache-Control")),
        },
        errors=(400, 404),
        query=tuple(
            {"name": name, "schema": schema}
            for name, schema in qr.QrQuery.model_json_schema()["properties"].items()
        ),
        headers=("If-None-Match",),
    ),
    ("GET", "/health"): Operation(
        "health",
        "Liveness of the region",
        "service",
        {200: Body("Healthy.", Health)},
    ),
    ("GET", "/openapi.json"): Operation(
        "openapi",
        "This document",
        "service",
        {200: Body("The OpenAPI document.", media={"application/json": {"schema": {}}})},
    ),
    ("GET", "/{code}"): Operation(
        "redirect",
        "Follow a short link",
        "redirect",
        {
            **{
                status: Body(
                    "Redirect to the link's URL (the link's redirect_type).",
                    headers=("Location", "Cache-Control", "X-Short-Code"),
                )
                for status in REDIRECT_STATUSES
            },
            404: Body("No such link (HTML when Accept prefers it).", media=_HTML_OR_JSON),
            410: Body("Expired, disabled or deleted.", media=_HTML_OR_JSON),
        },
    ),
    ("HEAD", "/{code}"): Operation(
        "redirectHead",
        "A short link's redirect, without a body (not a click)",
        "redirect",
        {
            **{
                status: Body("Redirect.", headers=("Location", "Cache-Control", "X-Short-Code"))
                for status in REDIRECT_STATUSES
            },
            404: Body("No such link."),
            410: Body("Expired, disabled or deleted."),
        },
    ),
}


TAGS = ("links", "stats", "identity", "imports", "redirect", "service")


def build(operations: dict[tuple[str, str], Operation]) -> dict[str, Any]:
    """The whole document: every route of ROUTES, in the table's order, each described by its
    entry of `operations` (shared/openapi.py passes the links' OPERATIONS and the identity and
    import routes', which this layer cannot import)."""
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation = operations.get((route.method, route.resource)) or _undocumented(route)
        paths.setdefault(route.resource, {})[route.method.lower()] = _operation(
            route, operation, schemas
        )
    schemas["Error"] = _schema(Error, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "squrl",
            "version": API_VERSION,
            "description": "A self-hosted URL shortener's API (docs/api.md). Authenticated "
            "routes take `Authorization: Bearer <token>` or `x-api-key`. A method a path does "
            f"not list is 405 {METHOD_NOT_ALLOWED} with an `Allow` header.",
        },
        "tags": [{"name": name} for name in TAGS],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal token (squrl_...), a Cognito JWT, or locally an "
                    "API key.",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


def _undocumented(route: Route) -> Operation:
    """What the document can say of a route OPERATIONS has no entry for."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{route.method.lower()}{route.resource}").strip("_")
    return Operation(
        name,
        f"{route.method} {route.resource}",
        "undocumented",
        {200: Body("Success.", media={"application/json": {"schema": {}}})},
        errors=(400, 404),
    )


def _operation(route: Route, operation: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    if operation.description:
        spec["description"] = operation.description
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": operation.path.get(name) or _code_schema(),
        }
        for name in re.findall(r"\{(\w+)\}", route.resource)
    ]
    parameters += [{"in": "query", "required": False, **query} for query in operation.query]
    parameters += [
        {"name": name, "in": "header", "required": False, **REQUEST_HEADERS[name]}
        for name in operation.headers
    ]
    if parameters:
        spec["parameters"] = parameters
    if operation.request is not None:
        limit = f" At most {operation.body_limit} bytes." if operation.body_limit else ""
        spec["requestBody"] = {
            "required": True,
            "description": f"JSON; unknown fields are a ValidationError.{limit}",
            "content": {"application/json": {"schema": _ref(operation.request, schemas)}},
        }
    responses = {
        str(status): _answer(body, schemas) for status, body in sorted(operation.answers.items())
    }
    common = KEYED_ERRORS if route.api_key_required else PUBLIC_ERRORS
    for status in sorted({*operation.errors, *common}):
        responses.setdefault(str(status), _error(status))
    spec["responses"] = dict(sorted(responses.items()))
    if route.api_key_required:
        spec["security"] = [{"bearerAuth": []}, {"apiKey": []}]
        if route.scope:
            spec["x-squrl-scope"] = route.scope
    else:
        spec["security"] = []
    return spec


def _code_schema() -> dict[str, Any]:
    return {"type": "string", "pattern": f"^[A-Za-z0-9_-]{{1,{MAX_CODE_LENGTH}}}$"}


def _error(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERROR_MEANINGS[status],
        "content": {"application/json": {"schema": {"$ref": SCHEMAS + "Error"}}},
    }
    if status == 429:
        answer["headers"] = {"Retry-After": RESPONSE_HEADERS["Retry-After"]}
    return answer


def _answer(body: Body, schemas: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": body.description}
    if body.headers:
        answer["headers"] = {name: RESPONSE_HEADERS[name] for name in body.headers}
    if body.model is not None:
        answer["content"] = {"application/json": {"schema": _ref(body.model, schemas)}}
    elif body.media is not None:
        answer["content"] = body.media
    if body.links:
        answer["links"] = body.links
    return answer


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    name = model.model_config.get("title") or model.__name__
    schemas[name] = _schema(model, schemas)
    return {"$ref": SCHEMAS + name}


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its nested models moved to components, and the rules its
    validators add (patterns, enums, no nulls) stated for request bodies."""
    schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
    for name, nested in schema.pop("$defs", {}).items():
        schemas[name] = _refine(name, nested)
    return _refine(schema.get("title", model.__name__), schema)


def _refine(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if name not in (CreateLinkRequest.__name__, UpdateLinkRequest.__name__):
        return schema
    for prop, spec in schema.get("properties", {}).items():
        if "default" in spec and spec["default"] is None:
            del spec["default"]  # leaving the field out is the default, not sending null
        if prop in _NOT_NULL and "anyOf" in spec:
            (kept,) = [choice for choice in spec.pop("anyOf") if choice != {"type": "null"}]
            spec.update(kept)
        if prop in _REFINED:
            target = next((c for c in spec.get("anyOf", []) if c.get("type") == "string"), spec)
            target.update(_REFINED[prop])
        if prop == "tags":
            spec["items"] = _TAGS_ITEMS
    if name == UpdateLinkRequest.__name__:
        schema["minProperties"] = 1
        schema["not"] = {"required": ["ttl_hours", "expires_at"]}
    return schema


def document_text(operations: dict[tuple[str, str], Operation]) -> str:
    """The document as committed (docs/openapi.json) and served: stable, sorted, one form."""
    return json.dumps(build(operations), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

"""The OpenAPI document (docs/api.md section 9): generated from the route table and the models,
valid OpenAPI 3.1, committed current, served publicly, and true to what the handlers answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from functions.get_url import handler as get_module
from functions.identity import handler as identity_module
from functions.imports import handler as imports_module
from shared import openapi as document_module
from shared.contracts import routes
from shared.contracts.auth import SCOPES
from shared.contracts.routes import ROUTES, Route
from shared.identity.authorizer import Decision
from shared.identity.schemas import AccountExport, CreatedToken, Me, TokenList
from shared.imports import jobs
from shared.imports.formats import FORMATS
from shared.imports.schemas import CreatedImport, ImportFormat, ImportJob
from shared.links import openapi
from shared.links.schemas import BulkCreateResponse, History, Link, LinkPage, LinkStats
from tests.unit.events import OWNER, context, event
from tests.unit.links_client import call, get, make, patch, use_moto

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)
    for module in (identity_module, imports_module):
        monkeypatch.setattr(module, "dynamodb", lambda region: dynamodb)


def document() -> dict[str, Any]:
    return document_module.build()


def test_the_committed_copy_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == document_module.document_text(), (
        "docs/openapi.json is stale: run `make openapi`"
    )


def test_every_route_has_an_operations_entry() -> None:
    """No route is left to the generic description: each has its own answers and errors."""
    missing = [
        (r.method, r.resource)
        for r in ROUTES
        if (r.method, r.resource) not in document_module.OPERATIONS
    ]
    assert missing == []
    assert set(document_module.OPERATIONS) == {(r.method, r.resource) for r in ROUTES}
    tags = {op["tags"][0] for methods in document()["paths"].values() for op in methods.values()}
    assert "undocumented" not in tags


def test_it_is_valid_openapi_3_1() -> None:
    spec = document()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_appears_with_its_security_and_path_parameters() -> None:
    paths = document()["paths"]
    assert sum(len(methods) for methods in paths.values()) == len(ROUTES)
    for route in ROUTES:
        operation = paths[route.resource][route.method.lower()]
        if route.api_key_required:
            assert operation["security"] == [{"bearerAuth": []}, {"apiKey": []}], route
            assert operation.get("x-squrl-scope") == route.scope, route
            assert {"403", "429", "500"} <= set(operation["responses"]), route
        else:
            assert operation["security"] == [], route
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert names == set(re.findall(r"\{(\w+)\}", route.resource)), route
    operation_ids = [op["operationId"] for methods in paths.values() for op in methods.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_each_routes_error_statuses_use_the_error_body() -> None:
    paths = document()["paths"]
    expected = {
        ("post", "/urls"): {"400", "403", "409", "413", "422", "429", "500"},
        ("post", "/urls/bulk"): {"400", "403", "409", "413", "422", "429", "500"},
        ("patch", "/urls/{code}"): {"400", "403", "404", "412", "413", "429", "500"},
        ("get", "/urls/{code}/qr"): {"400", "403", "404", "429", "500"},
        ("get", "/urls"): {"400", "403", "429", "500"},
        ("post", "/tokens"): {"400", "403", "413", "429", "500"},
        ("get", "/tokens"): {"403", "429", "500"},
        ("delete", "/tokens/{id}"): {"403", "404", "429", "500"},
        ("get", "/me"): {"403", "429", "500"},
        ("get", "/me/export"): {"403", "429", "500"},
        ("delete", "/me"): {"403", "429", "500"},
        ("post", "/imports"): {"400", "403", "413", "429", "500"},
        ("get", "/imports/{id}"): {"403", "404", "429", "500"},
    }
    for (method, path), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert {s for s in responses if s >= "400"} == statuses, (method, path)
        for status in statuses:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
    error = document()["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message", "details"}


def test_request_bodies_state_the_validators_rules() -> None:
    schemas = document()["components"]["schemas"]
    create = schemas["CreateLinkRequest"]
    assert create["additionalProperties"] is False and create["required"] == ["original_url"]
    assert create["properties"]["custom_code"] == {
        "title": "Custom Code",
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]{3,20}$",
    }
    assert create["properties"]["redirect_type"]["enum"] == [301, 302, 307, 308]
    assert create["properties"]["ttl_hours"]["maximum"] == 87600
    assert create["properties"]["tags"]["items"]["pattern"] == "^[a-z0-9-]{1,32}$"
    bulk = schemas["BulkCreateRequest"]["properties"]["items"]
    assert (bulk["minItems"], bulk["maxItems"]) == (1, 100)
    assert bulk["items"] == {"$ref": "#/components/schemas/CreateLinkRequest"}
    update = schemas["UpdateLinkRequest"]
    assert update["minProperties"] == 1
    qr_params = {
        p["name"]: p["schema"]
        for p in document()["paths"]["/urls/{code}/qr"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert qr_params["scale"]["minimum"] == 1 and qr_params["scale"]["maximum"] == 40
    assert qr_params["border"]["minimum"] == 0 and qr_params["border"]["maximum"] == 16
    assert qr_params["ecc"]["enum"] == ["L", "M", "Q", "H"]
    assert qr_params["format"]["enum"] == ["svg", "png"]


def test_identity_and_import_routes_state_their_bodies_ids_and_scopes() -> None:
    spec = document()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    token = schemas["CreateTokenRequest"]
    assert token["additionalProperties"] is False
    assert token["required"] == ["name", "scopes"]
    assert (token["properties"]["name"]["minLength"], token["properties"]["name"]["maxLength"]) == (
        1,
        100,
    )
    days = token["properties"]["expires_in_days"]
    assert (days["minimum"], days["maximum"], days["default"]) == (1, 365, 90)
    assert token["properties"]["scopes"]["items"]["enum"] == [
        "links:read",
        "links:write",
        "stats:read",
    ]
    assert schemas["CreateImportRequest"]["properties"]["format"]["enum"] == [
        "csv",
        "bitly",
        "yourls",
        "kutt",
        "shlink",
        "dub",
    ]
    assert set(schemas["CreatedToken"]["required"]) == {
        "id",
        "name",
        "scopes",
        "token",
        "created_at",
        "expires_at",
    }
    assert "token" not in schemas["TokenView"]["properties"]
    assert "last_used_at" in schemas["TokenView"]["required"]
    assert set(schemas["Me"]["required"]) == {"user_id", "email", "groups"}
    assert {"id", "status", "total", "created", "skipped", "failed", "errors"} <= set(
        schemas["ImportJob"]["required"]
    )
    assert schemas["ImportJob"]["properties"]["status"]["enum"] == [
        "waiting",
        "running",
        "done",
        "failed",
    ]
    (token_id,) = paths["/tokens/{id}"]["delete"]["parameters"]
    assert token_id["schema"]["pattern"] == "^tok_[0-9a-f]{16}$"
    (job_id,) = paths["/imports/{id}"]["get"]["parameters"]
    assert job_id["schema"]["pattern"] == "^[0-9a-f]{32}$"
    assert min(paths["/tokens/{id}"]["delete"]["responses"]) == "204"
    assert min(paths["/me"]["delete"]["responses"]) == "204"
    scopes = {
        (method, path): op.get("x-squrl-scope")
        for path, methods in paths.items()
        for method, op in methods.items()
        if path.startswith(("/tokens", "/me", "/imports"))
    }
    assert scopes == {
        ("post", "/tokens"): None,
        ("get", "/tokens"): None,
        ("delete", "/tokens/{id}"): None,
        ("get", "/me"): None,
        ("get", "/me/export"): "links:read",
        ("delete", "/me"): "links:write",
        ("post", "/imports"): "links:write",
        ("get", "/imports/{id}"): "links:read",
    }
    # The import formats of the model are the parsers' formats.
    assert ImportFormat.__args__ == FORMATS  # type: ignore[attr-defined]


def test_created_tokens_and_imports_lead_to_their_follow_ups() -> None:
    paths = document()["paths"]
    token_links = paths["/tokens"]["post"]["responses"]["201"]["links"]
    assert token_links == {
        "RevokeToken": {"operationId": "revokeToken", "parameters": {"id": "$response.body#/id"}}
    }
    import_links = paths["/imports"]["post"]["responses"]["201"]["links"]
    assert import_links == {
        "GetImport": {"operationId": "getImport", "parameters": {"id": "$response.body#/id"}}
    }


def test_created_links_lead_to_get_patch_and_delete() -> None:
    created = document()["paths"]["/urls"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in created.values()}
    assert {"getLink", "updateLink", "deleteLink"} <= targets
    for link in created.values():
        assert link["parameters"] == {"code": "$response.body#/short_code"}


def test_a_route_added_to_the_table_appears_without_an_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = Route("GET", "/tokens/{id}", "tokens", True, "links:read")
    monkeypatch.setattr(openapi, "ROUTES", (*routes.ROUTES, extra))
    spec = openapi.build(document_module.OPERATIONS)
    operation = spec["paths"]["/tokens/{id}"]["get"]
    assert operation["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert [p["name"] for p in operation["parameters"]] == ["id"]
    assert {"403", "429", "500"} <= set(operation["responses"])
    validate(spec)


def test_it_is_served_publicly_by_get_url() -> None:
    (route,) = [r for r in ROUTES if r.resource == "/openapi.json"]
    assert route.function == "get_url" and not route.api_key_required
    response = get_module.handler(event("GET", "/openapi.json"), context())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == document()
    assert response["body"] == document_module.document_text()


def test_the_answer_models_match_what_the_handlers_answer() -> None:
    link = make("https://schema.example/", title="t", tags=["a-b"], ttl_hours=5)
    Link.model_validate(link)
    Link.model_validate(patch(link["short_code"], {"expires_at": None}).body)
    Link.model_validate(get(link["short_code"]).body)
    LinkPage.model_validate(call("GET", "/urls", query="limit=2").body)
    History.model_validate(call("GET", f"/urls/{link['short_code']}/history").body)
    LinkStats.model_validate(call("GET", f"/urls/{link['short_code']}/stats").body)
    bulk = call(
        "POST", "/urls/bulk", {"items": [{"original_url": "https://b.example/"}, {"x": 1}]}
    ).body
    BulkCreateResponse.model_validate(bulk)


def _as_user(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    built = event(method, path, body)
    built["requestContext"]["authorizer"] = Decision(
        True, "user", OWNER, SCOPES, ("admin",), "owner@x.example"
    ).context()
    module = identity_module if path.startswith(("/tokens", "/me")) else imports_module
    response = module.handler(built, context())
    return response["statusCode"], json.loads(response.get("body") or "null")


def test_the_identity_and_import_models_match_what_the_handlers_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQURL_IMPORT_BUCKET", "squrl-test-imports-000000000000-us-east-1")
    monkeypatch.delenv("SQURL_LOCAL_UPLOADS_URL", raising=False)
    status, made = _as_user("POST", "/tokens", {"name": "ci", "scopes": ["links:read"]})
    assert status == 201
    CreatedToken.model_validate(made)
    listed = TokenList.model_validate(_as_user("GET", "/tokens")[1])
    assert [t.id for t in listed.items] == [made["id"]]
    assert Me.model_validate(_as_user("GET", "/me")[1]).groups == ["admin"]
    link = make("https://export.example/", title="t", tags=["a-b"])
    patch(link["short_code"], {"title": "u"})
    exported = AccountExport.model_validate(_as_user("GET", "/me/export")[1])
    assert exported.tokens == listed.items
    assert [h.action for h in exported.links[0].history] == ["created", "updated"]
    status, created = _as_user("POST", "/imports", {"format": "csv"})
    assert status == 201
    CreatedImport.model_validate(created)
    job = ImportJob.model_validate(_as_user("GET", f"/imports/{created['id']}")[1])
    assert (job.status, job.total, job.errors) == ("waiting", 0, [])
    failed = {
        jobs.STATUS: jobs.FAILED,
        jobs.FORMAT: "csv",
        jobs.CREATED_AT: "2026-01-01T00:00:00Z",
        jobs.UPDATED_AT: "2026-01-01T00:00:01Z",
        jobs.TOTAL: 3,
        jobs.CREATED: 1,
        jobs.SKIPPED: 0,
        jobs.FAILED_ROWS: 2,
        jobs.ERRORS: [
            {"line": 2, "error": "InvalidUrl", "reason": "scheme", "field": "original_url"}
        ],
        jobs.MESSAGE: "The upload could not be read.",
    }
    view = ImportJob.model_validate(jobs.job_view("0" * 32, failed))
    assert view.errors_truncated and view.message == "The upload could not be read."


def test_the_url_pattern_takes_the_scheme_in_any_case() -> None:
    """docs/api.md section 3: `invalid_scheme` is a scheme other than http or https, in any
    letter case; the document must not refuse what the API accepts."""
    for name in ("CreateLinkRequest", "UpdateLinkRequest"):
        pattern = re.compile(
            document()["components"]["schemas"][name]["properties"]["original_url"]["pattern"]
        )
        for accepted in ("https://a.example/", "HTTPS://A.EXAMPLE/", "Http://a.example/"):
            assert pattern.search(accepted), (name, accepted)
        for refused in ("ftp://a.example/", "javascript:alert(1)", "//a.example/"):
            assert not pattern.search(refused), (name, refused)

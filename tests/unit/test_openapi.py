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
from shared.contracts import routes
from shared.contracts.routes import ROUTES, Route
from shared.links import openapi
from shared.links.schemas import BulkCreateResponse, History, Link, LinkPage, LinkStats
from tests.unit.events import context, event
from tests.unit.links_client import call, get, make, patch, use_moto

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def document() -> dict[str, Any]:
    return openapi.build()


def test_the_committed_copy_is_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi.document_text(), "docs/openapi.json is stale: run `make openapi`"


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
    spec = openapi.build()
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

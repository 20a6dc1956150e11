"""GET /api/schema/ (OpenAPI) and GET /api/docs/ (Swagger UI, assets served locally)."""
from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

READ_PATHS = {
    "/api/flow-runs/", "/api/flow-runs/{id}/", "/api/flow-runs/{id}/task-runs/", "/api/flow-runs/{id}/states/",
    "/api/task-runs/", "/api/task-runs/{id}/", "/api/task-runs/{id}/states/", "/api/logs/", "/api/workers/",
}


@pytest.fixture
def schema() -> dict:
    GENERATOR_STATS.reset()
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_read_views_generate_without_warnings_or_errors(schema):
    problems = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "EventBatchView" not in m]
    assert problems == []


def test_schema_documents_every_read_endpoint(schema):
    assert READ_PATHS <= set(schema["paths"])


def test_schema_documents_the_filters(schema):
    params = {p["name"] for p in schema["paths"]["/api/task-runs/"]["get"]["parameters"]}
    assert {"state", "flow_run", "flow", "task_key", "name", "started_after", "started_before", "tag", "cursor"} <= params


def test_schema_documents_bearer_authentication(schema):
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_schema_endpoint_serves_the_schema(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/flow-runs/" in response.json()["paths"]


def test_docs_page_uses_no_cdn(api):
    response = api.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "//unpkg" not in html


def test_swagger_ui_assets_are_served_locally(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/task-runs/retry/", "/api/claims/", "/api/claims/release/", "/api/task-runs/"])
def test_a_body_the_view_needs_is_required_in_the_schema(schema, path):
    # A request without a body is answered 400: the schema must not call the body optional (Schemathesis ST202).
    assert schema["paths"][path]["post"]["requestBody"]["required"] is True

"""The API document declares every answer an operation can get, each error in the one shape,
and the committed copy (docs/openapi.json) is what the app serves."""

from pathlib import Path

import pytest

from {{ cookiecutter.project_slug }}.core.api_document import (
    COMMITTED,
    served,
)
from {{ cookiecutter.project_slug }}.core.error_shape import (
    ErrorBody,
)
{%- if cookiecutter.framework == "fastapi" %}
from {{ cookiecutter.project_slug }}.core.openapi import (
    error_responses,
)
{%- endif %}
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.project_slug }}.items.models import (
    ID_MAX,
)
{%- endif %}

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_error_answer_is_the_error_shape(document):
    assert document["openapi"].startswith("3.1")
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == ERROR_REF, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorBody"]["properties"]) == {"error"}


def test_every_operation_declares_what_the_platform_answers(document):
    guarded = "securitySchemes" in document["components"]
    for path, method, operation in operations(document):
        declared = {int(status) for status in operation["responses"]}
        assert {400, 405, 408, 413, 431} <= declared, (method, path)
        if not path.startswith(("/health", "/metrics")):
            assert 429 in declared, (method, path)
        if path.startswith("/api/v1/"):
            assert ("security" in operation) == guarded, (method, path)
            assert {401, 403, 503} <= declared if guarded else 503 in declared, (method, path)
        if "{" in path:
            assert {404, 422} <= declared, (method, path)
        if "parameters" in operation or "requestBody" in operation:
            assert 422 in declared, (method, path)
    ready = document["paths"]["/health/ready"]["get"]["responses"]
    assert "503" in ready
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


def test_the_security_scheme_is_declared(document):
    schemes = document["components"].get("securitySchemes")
{%- if cookiecutter.auth == "jwt" %}
    assert schemes == {"HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
{%- elif cookiecutter.auth == "api-key" %}
    assert schemes == {"APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
{%- else %}
    assert schemes is None
{%- endif %}
{%- if cookiecutter.database != "none" %}


def test_the_items_inputs_are_declared_with_their_bounds(document):
    items = document["paths"]["/api/v1/items"]
    page = {p["name"]: p["schema"] for p in items["get"]["parameters"]}
    assert (page["limit"]["minimum"], page["limit"]["maximum"]) == (1, 100)
    assert (page["offset"]["minimum"], page["offset"]["maximum"]) == (0, 2**63 - 1)
    assert "requestBody" in items["post"]
    assert "201" in items["post"]["responses"]
    for method, operation in document["paths"]["/api/v1/items/{item_id}"].items():
        (parameter,) = operation["parameters"]
        assert (parameter["name"], parameter["in"], parameter["required"]) == (
            "item_id",
            "path",
            True,
        ), method
        bounds = (parameter["schema"]["minimum"], parameter["schema"]["maximum"])
        assert bounds == (1, ID_MAX), method
{%- endif %}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/no/such/path", 404), ("post", "/test/things", 422), ("get", "/test/conflict", 409)],
)
def test_the_bodies_sent_are_the_declared_shape(client, method, path, status):
    response = client.request(method, path, json={"size": "big"})
    assert response.status_code == status
    ErrorBody.model_validate(response.json())


def test_the_document_and_docs_are_served_outside_production_only(make_client):
    docs = make_client().get("/docs")
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")
    assert "cdn.jsdelivr.net" in docs.headers["Content-Security-Policy"]
    production = make_client(environment="production")
    assert production.get("/openapi.json").status_code == 404
    assert production.get("/docs").status_code == 404


def test_the_committed_document_is_what_the_app_serves():
    committed = (ROOT / COMMITTED).read_text(encoding="utf-8")
    assert committed == served(), f"{COMMITTED} is out of date: run `make openapi`"
{%- if cookiecutter.framework == "fastapi" %}


def test_routes_declare_their_own_extra_answers():
    declared = error_responses(409)
    assert declared[409]["model"] is ErrorBody
    assert declared[409]["description"] == "Conflict"
{%- endif %}

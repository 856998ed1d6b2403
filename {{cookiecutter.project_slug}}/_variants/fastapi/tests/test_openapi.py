"""The API document declares every answer an operation can get, each error in the one shape."""

import pytest

from {{ cookiecutter.project_slug }}.core.error_shape import ErrorBody
from {{ cookiecutter.project_slug }}.core.openapi import (
    error_responses,
)

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
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
        assert {400, 413, 431} <= declared, (method, path)
        if not path.startswith(("/health", "/metrics")):
            assert 429 in declared, (method, path)
        if path.startswith("/api/v1/"):
            assert ("security" in operation) == guarded, (method, path)
            assert {401, 403, 503} <= declared if guarded else 503 in declared, (method, path)
        if "{" in path:
            assert 404 in declared, (method, path)
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


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no/such/path", 404), ("/test/items/abc", 422), ("/test/conflict", 409)],
)
def test_the_bodies_sent_are_the_declared_shape(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    ErrorBody.model_validate(response.json())


def test_routes_declare_their_own_extra_answers():
    declared = error_responses(409)
    assert declared[409]["model"] is ErrorBody
    assert declared[409]["description"] == "Conflict"

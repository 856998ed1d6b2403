"""The API document (OpenAPI 3.1), built from the app's route table and the pydantic models each
view declares, then completed by the shared rules (core/api_document.py).

A view says what it reads and answers with `@documented(...)`, which only labels the function:
nothing runs per request. The document is built on the first /openapi.json and kept; /docs
is Swagger UI over it. Both exist outside production only, as with FastAPI.
"""

import html
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import orjson
from flask import Flask, Response, current_app
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from werkzeug.routing import Rule

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.core.api_document import (
    complete,
)
from {{ cookiecutter.project_slug }}.core.middleware import (
    route_template,
)

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
JSON = "application/json"
# Where the interactive docs load Swagger UI from (core/security.py's DOCS_CSP allows it).
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
UNDOCUMENTED = {"static", "openapi", "docs"}
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What a view reads and answers, for the document."""

    answer: type[BaseModel] | None = None
    status: int = 200
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    # Error statuses the view raises beyond the platform's (core/api_document.py), e.g. 409.
    errors: tuple[int, ...] = ()


def documented(**declared: Any) -> Callable[[View], View]:
    """Label a view with its Operation; outermost, above any decorator that wraps the view."""
    operation = Operation(**declared)

    def label(view: View) -> View:
        view.__dict__["openapi_operation"] = operation
        return view

    return label


def _operations(app: Flask) -> Iterator[tuple[Rule, str, Operation]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED:
            continue
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "openapi_operation", Operation())
        for method in sorted(rule.methods or ()):
            if method not in {"HEAD", "OPTIONS"}:
                yield rule, method, operation


def _security(app: Flask, endpoint: str) -> dict[str, Any]:
    """The schemes of the guards (core/auth/guard.py) that run before this endpoint."""
    names = endpoint.split(".")[:-1]
    blueprints = [".".join(names[: i + 1]) for i in range(len(names))]
    schemes: dict[str, Any] = {}
    for name in blueprints:
        for hook in app.before_request_funcs.get(name, ()):
            schemes.update(getattr(hook, "security_schemes", {}))
    return schemes


def _parameters(model: type[BaseModel] | None, where: str) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": field,
        }
        for name, field in schema["properties"].items()
    ]


def _path_parameters(rule: Rule, model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is not None:
        return _parameters(model, "path")
    # A view that declares nothing gets its path's parts as the strings the URL holds.
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in sorted(rule.arguments)
    ]


def _content(reference: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": reference}}


def build(app: Flask) -> dict[str, Any]:
    """The app's completed document, as /openapi.json serves it."""
    operations = list(_operations(app))
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for _, _, operation in operations:
        if operation.body is not None:
            models.append((operation.body, "validation"))
        if operation.answer is not None:
            models.append((operation.answer, "serialization"))
    references, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {}
    for rule, method, operation in operations:
        view = app.view_functions[rule.endpoint]
        status = str(operation.status)
        answer: dict[str, Any] = {"description": HTTPStatus(operation.status).phrase}
        if operation.answer is not None:
            answer["content"] = _content(references[(operation.answer, "serialization")])
        elif operation.status != HTTPStatus.NO_CONTENT:
            answer["content"] = _content({})
        errors = {
            str(error): {"description": HTTPStatus(error).phrase} for error in operation.errors
        }
        entry: dict[str, Any] = {
            "operationId": f"{rule.endpoint}_{method.lower()}".replace(".", "_"),
            "summary": view.__name__.replace("_", " ").strip().title(),
            "tags": [rule.endpoint.rpartition(".")[0] or "operations"],
            "responses": {status: answer} | errors,
        }
        parameters = _path_parameters(rule, operation.path) + _parameters(operation.query, "query")
        if parameters:
            entry["parameters"] = parameters
        if operation.body is not None:
            body = references[(operation.body, "validation")]
            entry["requestBody"] = {"required": True, "content": _content(body)}
        guards = _security(app, rule.endpoint)
        if guards:
            entry["security"] = [{name: []} for name in guards]
            schemes |= guards
        paths.setdefault(route_template(rule.rule), {})[method.lower()] = entry
    components: dict[str, Any] = {"schemas": definitions.get("$defs", {})}
    if schemes:
        components["securitySchemes"] = schemes
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": SERVICE_NAME, "version": __version__},
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
    return complete(document)


def document(app: Flask) -> dict[str, Any]:
    """The document /openapi.json serves, built once per app."""
    built: dict[str, Any] | None = app.extensions.get("openapi")
    if built is None:
        built = app.extensions["openapi"] = build(app)
    return built


def serve_document() -> Response:
    return Response(orjson.dumps(document(current_app)), mimetype=JSON)


# Swagger UI over /openapi.json; the page's own script only starts it.
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TITLE - API</title>
<link rel="stylesheet" href="SWAGGER_UI/swagger-ui.css">
</head>
<body>
<div id="api"></div>
<script src="SWAGGER_UI/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#api"});</script>
</body>
</html>
""".replace("SWAGGER_UI", SWAGGER_UI).replace("TITLE", html.escape(SERVICE_NAME))


def serve_docs() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


def install(app: Flask) -> None:
    app.add_url_rule("/openapi.json", "openapi", serve_document)
    app.add_url_rule("/docs", "docs", serve_docs)

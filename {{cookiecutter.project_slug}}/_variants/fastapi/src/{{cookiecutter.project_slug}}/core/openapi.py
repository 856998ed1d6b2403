"""The API document, completed: every error answer an operation can get, in the one error shape.

FastAPI declares what a route returns and a 422 with its own validation schema; the platform
answers more than that, whatever the route (the middleware's refusals, the guard's 401 and
403, a database that is down). Those answers follow from what an operation is, so they are
added here, by rule, for every route a resource mounts; a route that raises something more
(`ConflictError`) declares it itself: `@router.post(..., responses=error_responses(409))`.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from {{ cookiecutter.project_slug }}.core.error_shape import ErrorBody
from {{ cookiecutter.project_slug }}.core.ratelimit import is_exempt

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorBody"}
# Any request: a malformed one, a body over MAX_REQUEST_BYTES, too many or too long headers.
EVERY_OPERATION = (400, 413, 431)
# What the guard answers (core/auth/).
GUARDED = (401, 403)
# The resources' routes (/api/v1/...) answer 503 when a dependency cannot be reached (the
# database, an issuer's keys).
RESOURCES = "/api/v1/"
# The operational routes that answer 503 (readiness) or 401 (METRICS_TOKEN).
OPERATIONAL = {"/health/ready": (503,), "/health": (401, 503), "/metrics": (401,)}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses=` for these statuses, each in the error shape."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def _statuses(path: str, operation: dict[str, Any]) -> list[int]:
    statuses = [*EVERY_OPERATION, *OPERATIONAL.get(path, ())]
    if not is_exempt(path):
        statuses.append(429)
    if "security" in operation:
        statuses += GUARDED
    if path.startswith(RESOURCES):
        statuses.append(503)
    if "{" in path:
        statuses.append(404)
    if "422" in operation["responses"]:
        statuses.append(422)
    return statuses


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add every error answer to every operation, each pointing at ErrorBody."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    # FastAPI's own validation error shapes are never sent: 422 is the error shape too.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation["responses"]
            for status in _statuses(path, operation):
                responses[str(status)] = {
                    "description": HTTPStatus(status).phrase,
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
    metrics = document.get("paths", {}).get("/metrics", {}).get("get")
    if metrics is not None:
        # Prometheus' text format, not JSON.
        metrics["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document (built once, on first use, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

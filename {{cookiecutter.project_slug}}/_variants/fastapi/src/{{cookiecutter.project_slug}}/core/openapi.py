"""The API document, completed by the shared rules (core/api_document.py): every error answer
an operation can get, in the one error shape.

FastAPI declares what a route returns and a 422 with its own validation schema; the rules add
what the platform answers besides. A route that raises something more (`ConflictError`)
declares it itself: `@router.post(..., responses=error_responses(409))`.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from {{ cookiecutter.project_slug }}.core.api_document import (
    complete,
)
from {{ cookiecutter.project_slug }}.core.error_shape import (
    ErrorBody,
)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses=` for these statuses, each in the error shape."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def document(app: FastAPI) -> dict[str, Any]:
    """The app's completed document, as /openapi.json serves it."""
    return app.openapi()


def install(app: FastAPI) -> None:
    """Serve the completed document (built once, on first use, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Exception handlers: every error leaves as the contract's JSON shape.

Unhandled exceptions never reach these: `ServiceMiddleware` logs them with their traceback
and answers a generic 500.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.core.errors import (
    AppError,
    RequestValidationFailed,
    code_for_status,
    error_body,
)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = error_body(code, message, request_id.current(), details)
    return JSONResponse(body, status_code=status, headers=headers)


async def render_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, AppError):
        return error_response(
            exc.status_code, exc.code, exc.message, exc.details, exc.headers or None
        )
    if isinstance(exc, RequestValidationError | ValidationError):
        error = RequestValidationFailed.from_errors(exc.errors())
        return error_response(error.status_code, error.code, error.message, error.details)
    # HTTPException: 404, 405, 413 from the body limit, and whatever a view raises.
    status: int = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", None)
    message = detail if isinstance(detail, str) else HTTPStatus(status).phrase
    return error_response(
        status, code_for_status(status), message, headers=getattr(exc, "headers", None)
    )


def install(app: FastAPI) -> None:
    for error_class in (HTTPException, RequestValidationError, ValidationError, AppError):
        app.add_exception_handler(error_class, render_error)

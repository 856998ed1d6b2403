"""Error handlers: every error leaves as the contract's JSON shape."""

from http import HTTPStatus
from typing import Any

import orjson
import structlog
from flask import Flask, Response{% if cookiecutter.sentry %}, request{% endif %}
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from {{ cookiecutter.project_slug }}.core import request_id{% if cookiecutter.sentry %}, sentry, sentry_requests{% endif %}
from {{ cookiecutter.project_slug }}.core.errors import (
    AppError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    RequestValidationFailed,
    code_for_status,
    error_body,
)
{%- if cookiecutter.sentry %}
from {{ cookiecutter.project_slug }}.core.metrics import UNMATCHED_ROUTE
from {{ cookiecutter.project_slug }}.core.middleware import route_template
{%- endif %}

logger = structlog.get_logger("errors")


def error_response(
    status: int, code: str, message: str, details: list[Any] | None = None
) -> Response:
    body = orjson.dumps(error_body(code, message, request_id.current(), details))
    return Response(body, status=status, mimetype="application/json")


def install(app: Flask, production: bool) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == PayloadTooLargeError.status_code:
            message = PayloadTooLargeError.default_message
        elif exc.description != type(exc).description:  # a view's own abort(404, "...")
            message = str(exc.description)
        else:
            message = HTTPStatus(status).phrase
        response = error_response(status, code_for_status(status), message)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # e.g. Allow on 405
        return response

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError) -> Response:
        error = RequestValidationFailed.from_errors(exc.errors())
        return error_response(error.status_code, error.code, error.message, error.details)

    @app.errorhandler(AppError)
    def app_error(exc: AppError) -> Response:
        response = error_response(exc.status_code, exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        elif isinstance(exc, RequestTimeoutError):
            # The rest of the body may still come; gunicorn closes instead of reading it.
            response.headers["Connection"] = "close"
        return response

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Response:
        logger.exception("unhandled_exception")
{%- if cookiecutter.sentry %}
        rule = request.url_rule
        route = route_template(rule.rule) if rule is not None else UNMATCHED_ROUTE
        sentry.capture(exc, sentry_requests.request_of(request), f"{request.method} {route}")
{%- endif %}
        message = AppError.default_message
        if not production:
            message = f"{message}: {exc!r}"
        return error_response(500, AppError.code, message)

"""Errors the service raises on purpose; each becomes the contract's JSON error shape."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error with a known status; the handlers render it, never a traceback."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, *, details: list[Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details
        # Headers the answer carries, e.g. WWW-Authenticate on a 401.
        self.headers: dict[str, str] = {}
        super().__init__(self.message)


class NotFoundError(AppError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Resource not found"


class ConflictError(AppError):
    status_code = 409
    code = "CONFLICT"
    default_message = "Resource conflicts with the current state"


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A dependency is unavailable; try again shortly"


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is larger than allowed"


# A body refused by its Content-Length is still read and thrown away when it is at most this
# many times the limit: a server that closes the connection while the client is still sending
# makes the kernel answer with a reset, and the client never sees the 413.
DRAIN_FACTOR = 4


class RequestTimeoutError(AppError):
    """The request did not arrive within REQUEST_READ_TIMEOUT; its connection closes after."""

    status_code = 408
    code = "REQUEST_TIMEOUT"
    default_message = "The request did not arrive in time"


class HeadersTooLargeError(AppError):
    status_code = 431
    code = "REQUEST_HEADER_FIELDS_TOO_LARGE"
    default_message = "Too many request headers, or one too long"


class CorsRefusedError(AppError):
    """A CORS preflight from an origin not in CORS_ORIGINS (core/cors.py, per framework)."""

    status_code = 400
    code = "BAD_REQUEST"
    default_message = "Disallowed CORS origin"


class RateLimitedError(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests; retry later"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class RequestValidationFailed(AppError):  # noqa: N818 - named in the service contract
    """422 with one `{"field", "message"}` per problem.

    Raise it with your own details, or build it from pydantic's errors:
    `RequestValidationFailed.from_errors(exc.errors())`.
    """

    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = "Request validation failed"

    @classmethod
    def from_errors(cls, errors: Sequence[Mapping[str, Any]]) -> "RequestValidationFailed":
        return cls(details=validation_details(errors))


# Codes of the statuses the frameworks raise themselves (404, 405, ...); others use the
# status's upper-case name.
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
# Where pydantic or FastAPI found the value; the field name alone is what a client needs.
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def code_for_status(status: int) -> str:
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in _LOCATIONS:
            location = location[1:]
        details.append({"field": ".".join(location), "message": str(error.get("msg", ""))})
    return details


def error_body(
    code: str, message: str, request_id: str | None, details: list[Any] | None = None
) -> dict[str, Any]:
    """The contract's error shape: `{"error": {"code", "message", "request_id", "details"?}}`."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details:
        error["details"] = details
    return {"error": error}

"""CORS: Flask-CORS, with refusals in the contract's error shape, as FastAPI's."""

from flask import Flask, Response, request
from flask_cors import CORS

from {{ cookiecutter.project_slug }}.core.errors import (
    CorsRefusedError,
)

# Headers a browser script may read from an answer.
EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]


def install(app: Flask, origins: list[str]) -> None:
    """Flask-CORS answers allowed origins. A preflight from any other is refused here (Flask's
    error handlers answer it in the error shape; Flask-CORS would answer 200 without CORS
    headers), and every answer says `Vary: Origin`, since its CORS headers depend on it.

    Origins are compared as plain strings, ignoring case, as Starlette compares them:
    config.py refuses pattern characters in production, which Flask-CORS would read as a
    regular expression.
    """
    CORS(app, origins=origins, expose_headers=EXPOSE_HEADERS)
    allowed = {origin.lower() for origin in origins}
    allow_all = "*" in allowed

    @app.before_request
    def refuse_disallowed_preflight() -> None:
        origin = request.headers.get("Origin")
        if (
            not allow_all
            and request.method == "OPTIONS"
            and origin is not None
            and "Access-Control-Request-Method" in request.headers
            and origin.lower() not in allowed
        ):
            raise CorsRefusedError()

    @app.after_request
    def vary_on_origin(response: Response) -> Response:
        response.vary.add("Origin")
        return response

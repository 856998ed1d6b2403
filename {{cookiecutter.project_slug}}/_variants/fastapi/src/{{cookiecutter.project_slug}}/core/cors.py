"""CORS: Starlette's middleware, with its refusals in the contract's error shape."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.core.errors import (
    CorsRefusedError,
    error_body,
)

# Headers a browser script may read from an answer.
EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]


class CORS(CORSMiddleware):
    """Every answer says `Vary: Origin` (whether CORS headers come back depends on it, so a
    cache must not hand one origin's answer to another), and a refused preflight is the JSON
    error shape rather than Starlette's text/plain 400."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSE_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "origin" not in headers.get("vary", "").lower():
                    headers.add_vary_header("Origin")
            await send(message)

        await super().__call__(scope, receive, send_with_vary)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != CorsRefusedError.status_code:
            return response
        error = CorsRefusedError()
        body = error_body(error.code, error.message, request_id.current())
        return JSONResponse(body, status_code=error.status_code)

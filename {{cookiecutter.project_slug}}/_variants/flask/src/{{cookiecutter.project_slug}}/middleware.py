"""What every request needs: request ID, body-size and rate limits, security headers,
metrics and the access log.

Request hooks do the work; a thin WSGI wrapper adds the fixed headers, which is cheaper than
setting them through Flask's response object. Per-request state lives in the WSGI environ:
each access to `flask.request` or `flask.g` goes through a context-local proxy.
"""

import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from {{ cookiecutter.project_slug }} import metrics, request_id
from {{ cookiecutter.project_slug }}.client_address import ClientAddress
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.errors import RateLimitedError
from {{ cookiecutter.project_slug }}.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.logging import AccessLog
from {{ cookiecutter.project_slug }}.ratelimit import is_exempt
from {{ cookiecutter.project_slug }}.security import security_headers

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# Keys of this service's per-request state in the WSGI environ.
STARTED = "service.started"
REQUEST_ID = "service.request_id"
BINDING = "service.request_id_binding"
CLIENT = "service.client"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@lru_cache(maxsize=1024)
def route_template(rule: str) -> str:
    """`/items/<int:item_id>` as `/items/{item_id}`: one spelling for both frameworks."""
    return _CONVERTER.sub(r"{\1}", rule)


class HeadersMiddleware:
    """Adds the security headers and the request ID to every response, errors included."""

    def __init__(self, app: WSGIApp, headers: list[tuple[str, str]]) -> None:
        self.app = app
        self.headers = headers

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            rid = environ.get(REQUEST_ID) or request_id.accept_or_new(None)
            headers += [*self.headers, (request_id.HEADER, rid)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def install(app: Flask, settings: Settings, limiter: RateLimiter | None) -> None:
    # Werkzeug refuses larger bodies itself, by Content-Length or while streaming.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    max_body = settings.max_request_bytes
    clients = ClientAddress(settings.trusted_proxies)
    access = AccessLog(settings.log_level, settings.json_logs, settings.slow_request_ms / 1000)
    app.wsgi_app = HeadersMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, security_headers(settings.is_production)
    )

    @app.before_request
    def start() -> None:
        environ = request.environ
        environ[STARTED] = time.perf_counter()
        rid = request_id.accept_or_new(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID] = rid
        environ[BINDING] = request_id.bind(rid)
        client = clients.resolve(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))
        environ[CLIENT] = client
        # Refused before any view runs, whether or not it would read the body.
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit() and int(length) > max_body:
            raise RequestEntityTooLarge()
        if limiter is not None and not is_exempt(environ.get("PATH_INFO", "")):
            wait = limiter.retry_after(client)
            if wait is not None:
                raise RateLimitedError(wait)

    @app.after_request
    def finish(response: Response) -> Response:
        environ = request.environ
        # Decoded as UTF-8, like FastAPI's (the WSGI environ holds it as Latin-1).
        path = request.path
        method: str = environ.get("REQUEST_METHOD", "")
        duration = time.perf_counter() - environ.get(STARTED, time.perf_counter())
        rule = request.url_rule
        route = route_template(rule.rule) if rule else metrics.UNMATCHED_ROUTE
        status = response.status_code
        metrics.observe(method, route, status, duration)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
            "client": environ.get(CLIENT),
        }
        access.record(fields, duration, is_exempt(path))
        return response

    @app.teardown_request
    def forget(_error: BaseException | None) -> None:
        token = request.environ.pop(BINDING, None)
        if token is not None:
            request_id.unbind(token)

"""What every request needs: request ID, body-size and rate limits, security headers,
metrics and the access log.

A WSGI layer does the work (fixed headers are cheaper to add there than through Flask's
response object), and one before-request hook refuses what Flask's error handlers answer.
"""

import io
import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import metrics, request_id
from {{ cookiecutter.project_slug }}.core.access_log import AccessLog
from {{ cookiecutter.project_slug }}.core.client_address import (
    ClientAddress,
)
from {{ cookiecutter.project_slug }}.core.errors import (
    DRAIN_FACTOR,
    RateLimitedError,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    OUTCOME_KEY,
    REFRESH_NEEDED,
    Credentials,
    Outcome,
    principal_name,
    rate_limit_key,
)
from {{ cookiecutter.project_slug }}.core.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.core.ratelimit import (
    client_key,
    is_exempt,
)
from {{ cookiecutter.project_slug }}.core.security import (
    DOCS_CSP,
    security_headers,
)

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# Per-request state in the WSGI environ: the client's address (for the rate limit) and the
# URL rule Flask matched (Flask clears its request from the environ when it is done).
CLIENT = "service.client"
RULE = "service.url_rule"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
# The ids of the span a request is served in (core/tracing.py), where requests are traced.
TraceIds = Callable[[], tuple[str, str] | None]


@lru_cache(maxsize=1024)
def route_template(rule: str) -> str:
    """`/items/<int:item_id>` as `/items/{item_id}`: one spelling for both frameworks."""
    return _CONVERTER.sub(r"{\1}", rule)


class ServiceMiddleware:
    """The WSGI layer around Flask: request ID, security headers, metrics and the access log.

    It sees every answer, errors included, and costs less than Flask's after-request and
    teardown hooks, which dispatch through context-local proxies. Only the refusals that need
    Flask's error handlers (body size, rate limit) stay in a before-request hook.
    """

    def __init__(
        self, app: WSGIApp, settings: Settings, trace_ids: TraceIds | None = None
    ) -> None:
        self.app = app
        self.trace_ids = trace_ids
        self.headers = security_headers(settings.is_production)
        self.docs_headers = security_headers(settings.is_production, DOCS_CSP)
        self.clients = ClientAddress(settings.trusted_proxies, settings.forwarded_hops)
        self.access = AccessLog(
            settings.log_level, settings.json_logs, settings.slow_request_ms / 1000
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        metrics.arrived()
        rid = request_id.accept_or_new(environ.get("HTTP_X_REQUEST_ID"))
        token = request_id.bind(rid)
        client = environ[CLIENT] = self.clients.resolve(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR")
        )
        status = 500
        trace_ids = self.trace_ids
        traced: tuple[str, str] | None = None

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status, traced
            status = int(status_line[:3])
            docs = environ.get("PATH_INFO", "").startswith("/docs")
            fixed = self.docs_headers if docs else self.headers
            headers += [*fixed, (request_id.HEADER, rid)]
            if trace_ids is not None:
                # Taken while the request's span is current: the access line follows it.
                traced = trace_ids()
                if traced is not None:
                    headers.append(("X-Trace-Id", traced[0]))
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            duration = time.perf_counter() - started
            rule = environ.get(RULE)
            route = route_template(rule.rule) if rule else metrics.UNMATCHED_ROUTE
            # Decoded as UTF-8, like FastAPI's (the WSGI environ holds it as Latin-1).
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
            method: str = environ.get("REQUEST_METHOD", "")
            metrics.observe(method, route, status, duration)
            metrics.left()
            self.access.record(
                method,
                route,
                path,
                status,
                duration,
                client,
                quiet=is_exempt(path),
                principal=principal_name(environ.get(OUTCOME_KEY)),
                trace=traced,
            )
            request_id.unbind(token)


def _discard(stream: Any, length: int) -> None:
    """Read a refused body to its end, so the 413 reaches a client that is still sending."""
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            return
        length -= len(chunk)


def _buffer_streamed_body(environ: dict[str, Any], max_body: int) -> None:
    """Read a chunked body up to the limit, or refuse it.

    Werkzeug stops reading such a body at MAX_CONTENT_LENGTH and hands the view what it read:
    a truncated body, parsed as if it were whole. Read here, it is whole or a 413.
    """
    stream = environ["wsgi.input"]
    body = stream.read(max_body + 1)
    if len(body) > max_body:
        _discard(stream, (DRAIN_FACTOR - 1) * max_body)
        raise RequestEntityTooLarge()
    # From here on it is a body of known length (werkzeug ignores a length sent with chunked).
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]


def _environ_key(header: bytes) -> str:
    return "HTTP_" + header.decode().upper().replace("-", "_")


def install(
    app: Flask,
    settings: Settings,
    limiter: RateLimiter | None,
    credentials: Credentials | None = None,
    trace_ids: TraceIds | None = None,
) -> None:
    # Werkzeug refuses a larger Content-Length itself; a chunked body is counted here.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    # Read by the gunicorn worker (core/worker.py), which collects each request whole.
    app.config["REQUEST_READ_TIMEOUT"] = settings.request_read_timeout
    max_body = settings.max_request_bytes
    credentials_key = _environ_key(credentials.header) if credentials else ""
    app.wsgi_app = ServiceMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, settings, trace_ids
    )

    @app.before_request
    def refuse() -> None:
        # Werkzeug answers a missing slash or a doubled one with a redirect built from the
        # request's Host, which the client chooses: a path is answered as written, or is a 404
        # (docs/contract.md). Flask passes routing redirects by its error handlers, so here.
        if isinstance(request.routing_exception, RequestRedirect):
            raise NotFound()
        environ = request.environ
        environ[RULE] = request.url_rule
        # Refused before any view runs, whether or not it would read the body.
        # A chunked body's length is what arrives (HTTP ignores a Content-Length beside it).
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = None if chunked else environ.get("CONTENT_LENGTH")
        declared = int(length) if length and length.isdigit() else 0
        if declared > max_body:
            if declared <= DRAIN_FACTOR * max_body:
                _discard(environ["wsgi.input"], declared)
            raise RequestEntityTooLarge()
        exempt = is_exempt(environ.get("PATH_INFO", ""))
        outcome: Outcome = None
        # The server joins a repeated header's copies with commas, which no key or token
        # holds: a repeated credential authenticates as nothing.
        presented = environ.get(credentials_key)
        if presented is not None and credentials is not None and not exempt:
            raw = presented.encode("latin-1")
            outcome = credentials.authenticate(raw)
            if outcome is REFRESH_NEEDED and credentials.refresh is not None:
                credentials.refresh()
                outcome = credentials.authenticate(raw)
        environ[OUTCOME_KEY] = outcome
        if limiter is not None and not exempt:
            wait = limiter.retry_after(rate_limit_key(outcome, client_key(environ[CLIENT])))
            if wait is not None:
                raise RateLimitedError(wait)
        if chunked:
            _buffer_streamed_body(environ, max_body)

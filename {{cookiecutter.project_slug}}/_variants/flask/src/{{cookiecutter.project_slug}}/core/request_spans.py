"""How each request gets its span: OpenTelemetry's WSGI middleware for the sampled ones.

core/tracing.py sets the SDK up and decides each request's sampling (`unsampled`); this
module is where Flask meets it. The WSGI middleware rather than the Flask instrumentation:
the latter's hooks run for every request, sampled or not, and cost about 120 µs for a span
that is never exported (docs/benchmarks.md, "tracing").
"""

from collections.abc import Iterable
from typing import Any

from flask import Flask
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import (
    OpenTelemetryMiddleware,
)

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import middleware, tracing

# The WSGI environ's keys of the propagation headers, by the header's lower-case name.
_HEADERS = {
    name: "HTTP_" + name.upper().replace("-", "_") for name in tracing.propagation_headers()
}
HTTP_ROUTE = "http.route"


def _named_by_route(app: middleware.WSGIApp) -> middleware.WSGIApp:
    """`app`, whose sampled span is then named in the contract's spelling: `GET
    /api/v1/items/{item_id}`. Named once Flask has answered, from the rule its routing found
    (`middleware.RULE`), while the span is still open: it ends once the answer is sent. Only
    sampled requests pass here; a hook of Flask's would run for every request."""

    def named(
        environ: dict[str, Any], start_response: middleware.StartResponse
    ) -> Iterable[bytes]:
        response = app(environ, start_response)
        rule = environ.get(middleware.RULE)
        span = trace.get_current_span()
        if rule is not None and span.is_recording():
            route = middleware.route_template(rule.rule)
            span.update_name(f"{environ['REQUEST_METHOD']} {route}")
            span.set_attribute(HTTP_ROUTE, route)
        return response

    return named


def install(app: Flask, settings: Settings) -> middleware.TraceIds | None:
    """Trace the app's requests. Installed before the service's middleware, which wraps it:
    the access line and X-Trace-Id are written inside the request's span."""
    if not tracing.enabled():
        return None
    tracing.start(settings)
    plain = app.wsgi_app
    traced = OpenTelemetryMiddleware(_named_by_route(plain))

    def wsgi_app(
        environ: dict[str, Any], start_response: middleware.StartResponse
    ) -> Iterable[bytes]:
        if tracing.untraced(environ.get("PATH_INFO", "")):
            return plain(environ, start_response)
        headers = {name: environ[key] for name, key in _HEADERS.items() if key in environ}
        context = tracing.unsampled(headers)
        if context is None:
            response: Iterable[bytes] = traced(environ, start_response)
            return response
        token = otel_context.attach(context)
        try:
            return plain(environ, start_response)
        finally:
            otel_context.detach(token)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return tracing.current_ids

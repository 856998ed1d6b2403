"""How each request gets its span: FastAPI's own instrumentation for the sampled ones.

core/tracing.py sets the SDK up and decides each request's sampling (`unsampled`); this
module is where FastAPI meets it.
"""

from collections.abc import MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from starlette.types import ASGIApp, Receive, Scope, Send

from {{ cookiecutter.project_slug }}.core import tracing

# Where `_excluded` leaves a dropped request's context for `Unsampled`.
UNSAMPLED = "service.unsampled_context"
# The propagation headers, by their names as ASGI gives them (lower-case bytes).
_HEADERS = {name.encode("latin-1"): name for name in tracing.propagation_headers()}


def _excluded(scope: MutableMapping[str, Any]) -> bool:
    """Whether FastAPI's instrumentation skips this request: a probe or scrape, or a request
    the sampler drops (served in the context it is given here)."""
    if tracing.untraced(scope.get("path", "")):
        return True
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = _HEADERS.get(name)
        if key is not None and key not in headers:  # the first of repeated ones, as FastAPI
            headers[key] = value.decode("latin-1")
    context = tracing.unsampled(headers)
    if context is None:
        return False
    scope[UNSAMPLED] = context
    return True


def telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry instrumentation: server spans named by route template, in
    the SDK core/tracing.py sets up. Its metrics and logs stay off (Prometheus has the
    metrics; the logs are JSON on stdout, never shipped twice), and so do its spans per
    dependency and endpoint, which would double the cost of a small request."""
    return {
        "tracing": tracing.enabled(),
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
        "exclude": _excluded,
    }


class Unsampled:
    """Serves a request the sampler dropped in the non-recording span `_excluded` made for
    it. The outermost layer, so the access line and X-Trace-Id see that span's ids."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = scope.pop(UNSAMPLED, None)
        if context is None:
            await self.app(scope, receive, send)
            return
        token = otel_context.attach(context)
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)

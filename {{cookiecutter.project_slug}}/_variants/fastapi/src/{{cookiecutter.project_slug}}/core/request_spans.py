"""How each request gets its span: FastAPI's own instrumentation, for the sampled ones.

core/tracing.py sets the SDK up and decides each request's sampling (`unsampled`); this
module is where FastAPI meets it.
"""

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.project_slug }}.core import tracing

# The propagation headers, by their names as ASGI gives them (lower-case bytes).
_HEADERS = {name.encode("latin-1"): name for name in tracing.propagation_headers()}


def _propagation_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = _HEADERS.get(name)
        if key is not None and key not in headers:  # the first of repeated ones, as FastAPI
            headers[key] = value.decode("latin-1")
    return headers


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
    }


class TracedApp(FastAPI):
    """FastAPI, whose instrumentation sees only the requests that are traced.

    Before it could ask whether to skip a request, FastAPI checks its telemetry's providers
    and walks the middleware stack, on every request (about 8 µs: docs/benchmarks.md,
    "tracing"). Probes, scrapes and the requests the sampler drops are served here as FastAPI
    serves every request when its telemetry is off; a dropped one in the non-recording span
    `tracing.unsampled` made for it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if tracing.untraced(scope["path"]):
            await self._untraced(scope, receive, send)
            return
        context = tracing.unsampled(_propagation_headers(scope))
        if context is None:
            await super().__call__(scope, receive, send)
            return
        token = otel_context.attach(context)
        try:
            await self._untraced(scope, receive, send)
        finally:
            otel_context.detach(token)

    async def _untraced(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What FastAPI.__call__ does for an HTTP request when its telemetry is off.
        if self.root_path:
            scope["root_path"] = self.root_path
        await Starlette.__call__(self, scope, receive, send)

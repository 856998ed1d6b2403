{%- set db = cookiecutter.database != "none" -%}
"""Traces with OpenTelemetry, exported over OTLP.

`start` sets the SDK up once per process: in a gunicorn worker after its fork (post_fork;
never in the master, whose BatchSpanProcessor thread a fork would not carry over). What is
still queued is exported when the app shuts down (`flush`) and when the worker exits
(`shutdown`). The exporter and the resource are configured only by OpenTelemetry's own
variables (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES;
OTEL_TRACES_EXPORTER=none exports nothing); the sampler is OTEL_TRACES_SAMPLER when set, else
parent-based with the ratio TRACE_SAMPLE_RATIO. OTEL_SDK_DISABLED=true leaves everything
untraced and uninstrumented.

Incoming W3C `traceparent`/`tracestate` are taken by the framework's instrumentation; a
malformed one starts a new trace. Probes and scrapes are not traced. Log lines written inside a
span carry its ids (core/logs.py), and the response names its trace in X-Trace-Id. Logs stay
JSON on stdout: nothing here ships them over OTLP.
"""

import asyncio
import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter,
)
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
{%- if cookiecutter.use_redis %}
from opentelemetry.instrumentation.redis import RedisInstrumentor
{%- endif %}
{%- if db %}
from opentelemetry.instrumentation.sqlalchemy import (
    SQLAlchemyInstrumentor,
)
{%- endif %}
from opentelemetry.sdk.environment_variables import (
    OTEL_SDK_DISABLED,
    OTEL_TRACES_SAMPLER,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ParentBased,
    TraceIdRatioBased,
)
from opentelemetry.trace import format_span_id, format_trace_id
{%- if db %}
from sqlalchemy.engine import Engine
{%- endif %}

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings

HEADER = "X-Trace-Id"
# The SDK reads it only in its auto-configuration, which the service does not use.
OTEL_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
# Probes and scrapes come every few seconds, all alike: a trace of them would tell nothing.
UNTRACED_PATHS = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})
# The same, as the regular expressions searched in each URL that the WSGI instrumentation takes.
EXCLUDED_URLS = ",".join(rf"^[^?]*//[^/]*{path}(\?|$)" for path in sorted(UNTRACED_PATHS))
{%- if cookiecutter.use_redis %}
# Client libraries patched once per process: their calls become child spans of the request's.
CLIENTS: list[BaseInstrumentor] = [RedisInstrumentor()]
{%- else %}
CLIENTS: list[BaseInstrumentor] = []
{%- endif %}

_provider: TracerProvider | None = None
_started_in = 0


def untraced(path: str) -> bool:
    return path in UNTRACED_PATHS


def enabled() -> bool:
    """False when OTEL_SDK_DISABLED=true: no SDK, no instrumentation, nothing exported."""
    return os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() != "true"


def start(settings: Settings, clients: bool = True) -> None:
    """Set the SDK up in this process, once (a forked worker sets up its own); `clients`:
    whether the client libraries' calls become spans."""
    global _provider, _started_in
    if not enabled() or _started_in == os.getpid():
        return
    _started_in = os.getpid()
    defaults = Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.version": __version__,
            "deployment.environment.name": settings.environment.value,
        }
    )
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are merged over these: an operator's win.
    resource = defaults.merge(OTELResourceDetector().detect())
    sampler = (
        None  # the SDK reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG itself
        if os.environ.get(OTEL_TRACES_SAMPLER)
        else ParentBased(TraceIdRatioBased(settings.trace_sample_ratio))
    )
    _provider = TracerProvider(resource=resource, sampler=sampler)
    # OTLP over HTTP, the one exporter shipped, unless OTEL_TRACES_EXPORTER=none. It reads
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, ... itself.
    if os.environ.get(OTEL_TRACES_EXPORTER, "otlp").strip().lower() != "none":
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)
    for client in CLIENTS if clients else []:
        if not client.is_instrumented_by_opentelemetry:
            client.instrument(tracer_provider=_provider)


def flush() -> None:
    """Export the spans still queued, and go on (an app's shutdown: uvicorn's worker ends its
    process with the signal it got, before gunicorn's worker_exit could run)."""
    if _provider is not None:
        _provider.force_flush()


async def flush_async() -> None:
    """`flush` off the event loop, as an app's closer."""
    await asyncio.to_thread(flush)


def shutdown() -> None:
    """Export the spans still queued and stop (a worker's exit)."""
    if _provider is not None:
        _provider.shutdown()


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the span being served, in hex, or None outside one."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)
{%- if db %}


def trace_engine(engine: Engine) -> None:
    """Each statement on this engine (an async engine's sync_engine) becomes a child span of
    the request's. The instrumentor is one per process: instrumented again for a newer engine
    (the tests make an app, and an engine, per test), it traces that one."""
    if not enabled():
        return
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/test_tracing.py sees the statements' spans).
    instrumentor.instrument(engine=engine, tracer_provider=_provider, skip_dep_check=True)
{%- endif %}

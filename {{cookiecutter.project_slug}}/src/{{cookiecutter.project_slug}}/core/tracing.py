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

Each request's sampling is decided before the instrumentation runs (`unsampled`): a request
the sampler drops skips it, and is served in a span that records nothing.
"""

import asyncio
import os
from collections.abc import Mapping
from contextvars import ContextVar

from opentelemetry import propagate, trace
from opentelemetry.context import Context
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
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    format_span_id,
    format_trace_id,
)
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
{%- if cookiecutter.use_redis %}
# Client libraries patched once per process: their calls become child spans of the request's.
CLIENTS: list[BaseInstrumentor] = [RedisInstrumentor()]
{%- else %}
CLIENTS: list[BaseInstrumentor] = []
{%- endif %}

_provider: TracerProvider | None = None
_started_in = 0
# The trace id a root request's sampling was decided on (`unsampled`), until the SDK starts
# that request's span with it.
_decided_trace_id: ContextVar[int | None] = ContextVar("decided_trace_id", default=None)
_ids = RandomIdGenerator()


class _DecidedIds(RandomIdGenerator):
    """Random ids, except a sampled root request's trace id: the one `unsampled` decided on.
    The SDK's sampler then decides again on the same id, so a ratio samples roots at the
    ratio, not at its square."""

    def generate_trace_id(self) -> int:
        decided = _decided_trace_id.get()
        if decided is None:
            return super().generate_trace_id()
        _decided_trace_id.set(None)
        return decided


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
    _provider = TracerProvider(resource=resource, sampler=sampler, id_generator=_DecidedIds())
    # OTLP over HTTP, the one exporter shipped, unless OTEL_TRACES_EXPORTER=none. It reads
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, ... itself.
    if os.environ.get(OTEL_TRACES_EXPORTER, "otlp").strip().lower() != "none":
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)
    for client in CLIENTS if clients else []:
        if not client.is_instrumented_by_opentelemetry:
            client.instrument(tracer_provider=_provider)


def unsampled(headers: Mapping[str, str]) -> Context | None:
    """The context to serve a request in when the sampler drops it, or None: the request is
    sampled, and the framework's instrumentation traces it. `headers`: the request's
    propagation headers, by lower-case name (`PROPAGATION_HEADERS`).

    A dropped request skips the instrumentation, which costs about 100 µs even for a span it
    never exports (docs/benchmarks.md, "tracing"); it is served in a non-recording span of its
    trace, as the SDK would make, so its ids still reach the log lines, X-Trace-Id and
    outgoing calls (flagged not sampled, as W3C asks). The sampler is the SDK's own, given the
    request's parent and trace id; a sampler that reads span names or attributes sees
    neither here.
    """
    if _provider is None:
        return None
    # Without propagation headers there is no parent: skip the propagators' work.
    parent = propagate.extract(headers) if headers else Context()
    parent_span = trace.get_current_span(parent).get_span_context()
    if parent_span.is_valid:
        trace_id = parent_span.trace_id
        random_trace_id = parent_span.trace_flags.random_trace_id
    else:
        trace_id, random_trace_id = _ids.generate_trace_id(), _ids.is_trace_id_random()
    result = _provider.sampler.should_sample(parent, trace_id, "request", SpanKind.SERVER)
    if result.decision is not Decision.DROP:
        _decided_trace_id.set(None if parent_span.is_valid else trace_id)
        return None
    flags = TraceFlags(TraceFlags.RANDOM_TRACE_ID if random_trace_id else TraceFlags.DEFAULT)
    span = SpanContext(trace_id, _ids.generate_span_id(), False, flags, result.trace_state)
    return trace.set_span_in_context(NonRecordingSpan(span), parent)


def propagation_headers() -> frozenset[str]:
    """The request headers `unsampled` reads: those of the propagators in use."""
    return frozenset(name.lower() for name in propagate.get_global_textmap().fields)


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

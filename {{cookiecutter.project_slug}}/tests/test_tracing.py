"""Tracing (core/tracing.py): W3C trace context in, server spans by route template, the trace
id in the response and on the log lines, probes untraced, hostile headers harmless."""

import re

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from {{ cookiecutter.project_slug }}.core import tracing

from .settings import base_settings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
UNSAMPLED_PARENT = PARENT[:-2] + "00"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def exporter():
    tracing.start(base_settings())
    assert tracing._provider is not None
    found = InMemorySpanExporter()
    tracing._provider.add_span_processor(SimpleSpanProcessor(found))
    return found


@pytest.fixture
def spans(exporter):
    exporter.clear()
    return exporter


@pytest.fixture
def sampled_at(exporter, monkeypatch):
    """Sample at a ratio: the provider's sampler, which `tracing.unsampled` asks, and that of
    each tracer it has made (the SDK keeps one per instrumentation, with its own sampler)."""

    def at(ratio: float) -> None:
        assert tracing._provider is not None
        sampler = ParentBased(TraceIdRatioBased(ratio))
        monkeypatch.setattr(tracing._provider, "sampler", sampler)
        for tracer in list(tracing._provider._tracers.values()):
            monkeypatch.setattr(tracer, "sampler", sampler)

    return at


def server_spans(spans):
    return [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_an_inbound_trace_is_kept_and_named_in_the_header_and_access_line(client, spans, logs):
    logs()
    response = client.get("/test/items/7", headers={"traceparent": PARENT})
    assert response.status_code == 200
    assert response.headers["x-trace-id"] == TRACE
    (server,) = server_spans(spans)
    assert server.name == "GET /test/items/{item_id}"
    assert server.attributes["http.route"] == "/test/items/{item_id}"
    assert format_trace_id(server.context.trace_id) == TRACE
    assert server.parent is not None and format_span_id(server.parent.span_id) == PARENT[36:52]
    (access,) = [r for r in logs() if r["event"] == "request"]
    assert access["trace_id"] == TRACE
    assert access["span_id"] == format_span_id(server.context.span_id)


def test_every_line_inside_a_span_carries_its_ids(client, spans, logs):
    logs()
    response = client.get("/test/boom", headers={"traceparent": PARENT})
    assert response.status_code == 500
    records = logs()
    failure = next(r for r in records if r["event"] == "unhandled_exception")
    access = next(r for r in records if r["event"] == "request")
    assert failure["trace_id"] == access["trace_id"] == TRACE
    assert failure["request_id"] == access["request_id"]


@pytest.mark.parametrize(
    "traceparent",
    [
        "garbage",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # an all-zero trace id is invalid
        f"00-{TRACE}-{'0' * 16}-01",  # so is an all-zero parent id
        f"ff-{TRACE}-00f067aa0ba902b7-01",  # version ff is forbidden
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",  # upper case is not W3C
        "00-" + "a" * 500,
    ],
)
def test_a_malformed_traceparent_starts_a_new_trace(client, spans, logs, traceparent):
    logs()
    response = client.get(
        "/status", headers={"traceparent": traceparent, "tracestate": "=\x7f,,bad key=1"}
    )
    assert response.status_code == 200
    trace_id = response.headers["x-trace-id"]
    assert HEX32.fullmatch(trace_id) and trace_id != TRACE
    records = logs()
    assert all(traceparent not in str(record) for record in records)
    (access,) = [r for r in records if r["event"] == "request"]
    assert access["trace_id"] == trace_id


def test_probes_and_scrapes_are_not_traced(client, spans):
    for path in ("/health/live", "/health/ready", "/metrics"):
        response = client.get(path, headers={"traceparent": PARENT})
        assert response.status_code == 200
        assert "x-trace-id" not in response.headers
    assert server_spans(spans) == []


def test_a_request_the_sampler_drops_keeps_its_ids_and_exports_nothing(
    make_client, sampled_at, spans, logs
):
    sampled_at(0.0)
    client = make_client()
    logs()
    response = client.get("/test/items/7")
    assert response.status_code == 200
    trace_id = response.headers["x-trace-id"]
    assert HEX32.fullmatch(trace_id)
    (access,) = [r for r in logs() if r["event"] == "request"]
    assert access["trace_id"] == trace_id
    assert spans.get_finished_spans() == ()


def test_the_parent_decides_whatever_the_ratio(make_client, sampled_at, spans):
    sampled_at(0.0)
    assert make_client().get("/status", headers={"traceparent": PARENT}).status_code == 200
    (server,) = server_spans(spans)
    assert format_trace_id(server.context.trace_id) == TRACE
    spans.clear()
    sampled_at(1.0)
    response = make_client().get("/status", headers={"traceparent": UNSAMPLED_PARENT})
    assert response.headers["x-trace-id"] == TRACE
    assert server_spans(spans) == []


def test_roots_are_sampled_once_at_the_ratio(make_client, sampled_at, spans):
    # Sampling is decided before the instrumentation, which decides again on the same trace
    # id: half of the roots are sampled, not a quarter. Binomial(400, 0.5): 200 +- 10.
    sampled_at(0.5)
    client = make_client()
    answered = [client.get("/status").headers["x-trace-id"] for _ in range(400)]
    exported = [format_trace_id(s.context.trace_id) for s in server_spans(spans)]
    assert 140 <= len(exported) <= 260, len(exported)
    assert set(exported) <= set(answered)


def test_a_dropped_request_propagates_its_trace_unsampled(sampled_at):
    sampled_at(0.0)
    context = tracing.unsampled({"traceparent": UNSAMPLED_PARENT})
    assert context is not None
    span = trace.get_current_span(context)
    assert not span.is_recording()
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context)
    _, trace_id, span_id, flags = carrier["traceparent"].split("-")
    assert (trace_id, int(flags, 16) & 1) == (TRACE, 0)
    assert span_id != PARENT[36:52]
    # A sampled parent is the instrumentation's to trace.
    assert tracing.unsampled({"traceparent": PARENT}) is None


def test_outside_a_span_there_are_no_ids():
    assert tracing.current_ids() is None


def test_disabled_by_the_standard_variable(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.enabled()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "false")
    assert tracing.enabled()


def test_a_disabled_sdk_traces_nothing(make_client, monkeypatch, spans):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    response = make_client().get("/status", headers={"traceparent": PARENT})
    assert response.status_code == 200
    assert "x-trace-id" not in response.headers
    assert server_spans(spans) == []
{%- if cookiecutter.database != "none" %}


def test_statements_are_child_spans_of_the_request(client, spans):
    response = client.get("/api/v1/items", headers={"traceparent": PARENT})
    assert response.status_code == 200
    (server,) = server_spans(spans)
    statements = [
        s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CLIENT and s.attributes and "db.system" in str(s.attributes)
    ]
    assert statements
    assert all(s.context.trace_id == server.context.trace_id for s in statements)
{%- endif %}


def test_a_flush_exports_what_is_queued_and_tracing_goes_on(client, spans):
    import asyncio

    asyncio.run(tracing.flush_async())
    client.get("/status", headers={"traceparent": PARENT})
    assert len(server_spans(spans)) == 1

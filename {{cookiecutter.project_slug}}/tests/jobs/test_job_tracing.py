"""Jobs and traces: a message carries the sending request's trace context, and each attempt
runs in a span of its own, a child of the request's, with the job's lines carrying its ids."""

import json

import dramatiq
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from {{ cookiecutter.project_slug }}.config import DEFAULT_QUEUE
from {{ cookiecutter.project_slug }}.core import tracing
from {{ cookiecutter.project_slug }}.jobs.tracing import TRACE_CONTEXT
from tests.settings import base_settings

from .stub import drain


@pytest.fixture(scope="module")
def exporter():
    tracing.start(base_settings(trace_sample_ratio=1.0))
    assert tracing._provider is not None
    found = InMemorySpanExporter()
    tracing._provider.add_span_processor(SimpleSpanProcessor(found))
    return found


# A sampled remote parent: the request's span is recorded whatever TRACE_SAMPLE_RATIO is.
SAMPLED = trace.set_span_in_context(
    trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
            span_id=0x00F067AA0BA902B7,
            is_remote=True,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
    )
)


def lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_a_job_runs_in_a_child_span_of_the_request_that_sent_it(jobs_broker, exporter, capsys):
    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE)
    def traced() -> None:
        dramatiq.get_logger("tests").warning("inside the traced job")

    exporter.clear()
    with trace.get_tracer("tests").start_as_current_span("request", context=SAMPLED) as request:
        message = traced.send()
    assert message.options[TRACE_CONTEXT]["traceparent"].startswith("00-")
    capsys.readouterr()
    drain(jobs_broker)

    (job,) = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert job.name == "traced process"
    assert job.parent is not None
    assert job.parent.span_id == request.get_span_context().span_id
    assert job.context.trace_id == request.get_span_context().trace_id
    ids = (format_trace_id(job.context.trace_id), format_span_id(job.context.span_id))
    records = lines(capsys)
    inside = next(r for r in records if r.get("event") == "inside the traced job")
    outcome = next(r for r in records if r.get("event") == "job_succeeded")
    assert (inside["trace_id"], inside["span_id"]) == ids
    assert (outcome["trace_id"], outcome["span_id"]) == ids


def test_a_failing_attempt_is_an_error_span_and_retries_keep_the_sender(jobs_broker, exporter):
    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE, max_retries=1)
    def failing() -> None:
        raise RuntimeError("no")

    exporter.clear()
    with trace.get_tracer("tests").start_as_current_span("request", context=SAMPLED) as request:
        failing.send()
    drain(jobs_broker)

    attempts = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(attempts) == 2
    assert all(s.status.status_code is StatusCode.ERROR for s in attempts)
    sender = request.get_span_context().span_id
    assert all(s.parent is not None and s.parent.span_id == sender for s in attempts)


def test_a_job_sent_outside_a_span_starts_a_trace_of_its_own(jobs_broker, exporter, capsys):
    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE)
    def alone() -> None:
        return None

    exporter.clear()
    message = alone.send()
    capsys.readouterr()
    drain(jobs_broker)
    assert TRACE_CONTEXT not in message.options
    # Sampled or not (TRACE_SAMPLE_RATIO), its lines name a trace, and it has no parent.
    outcome = next(r for r in lines(capsys) if r.get("event") == "job_succeeded")
    assert len(outcome["trace_id"]) == 32
    consumers = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert all(s.parent is None for s in consumers)

"""Traces across the queue: a message carries the trace context of the request that sent it
(W3C `traceparent`/`tracestate`, in its options, which retries keep), and each attempt runs in
a span of its own, a child of that request's span: in its trace, and sampled with it. A job
sent outside a request starts a trace of its own.

Each worker process sets the SDK up after its fork (core/tracing.py). Its Redis client is not
instrumented: the broker polls Redis all the time, and every poll would be a trace.
"""

import threading
from typing import Any

from dramatiq import Broker, Message, Worker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from {{ cookiecutter.project_slug }}.config import get_settings
from {{ cookiecutter.project_slug }}.core import tracing

# The message option that holds the sending request's trace context.
TRACE_CONTEXT = "trace_context"


class JobTracing(Middleware):
    def __init__(self) -> None:
        # Hooks run in the worker thread that processes the message.
        self._local = threading.local()

    def after_process_boot(self, broker: Broker) -> None:
        tracing.start(get_settings(), clients=False)

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        # Flushed, not shut down: the SDK's own exit handler shuts it down with the process.
        tracing.flush()

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        if TRACE_CONTEXT in message.options:  # a retry keeps the first sender's
            return
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            message.options[TRACE_CONTEXT] = carrier

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        sender = propagate.extract(message.options.get(TRACE_CONTEXT) or {})
        span = trace.get_tracer(__name__).start_span(
            f"{message.actor_name} process",
            context=sender,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.queue_name,
                "messaging.message.id": message.message_id,
                "messaging.dramatiq.attempt": message.options.get("retries", 0) + 1,
            },
        )
        self._local.span = span
        self._local.token = context.attach(trace.set_span_in_context(span))

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        span = self._local.span
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        self._end()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self._end()

    def _end(self) -> None:
        local = self._local
        context.detach(local.token)
        local.span.end()

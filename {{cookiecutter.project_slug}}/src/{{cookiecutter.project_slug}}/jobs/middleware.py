"""What every job gets from the broker: its log context, its outcome line and its metrics,
and the worker's liveness file.

A message carries the `request_id` of the request that sent it (in its options, which
retries keep), so a job's lines and the request's lines share one id.
"""

import os
import socket
import sys
import threading
import time
import uuid
{%- if cookiecutter.framework == "fastapi" %}
from collections.abc import Coroutine
{%- endif %}
from pathlib import Path
from typing import Any{{ ", TypeVar" if cookiecutter.framework == "fastapi" else "" }}

import structlog
from dramatiq import Broker, Message, Worker
{%- if cookiecutter.framework == "fastapi" %}
from dramatiq.asyncio import get_event_loop_thread
{%- endif %}
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from {{ cookiecutter.project_slug }}.config import get_settings
from {{ cookiecutter.project_slug }}.core import logs, request_id{% if cookiecutter.sentry %}, sentry{% endif %}
from {{ cookiecutter.project_slug }}.jobs import metrics

# The message option that holds when a message was first sent (milliseconds since the epoch).
SENT = "sent_at"
# A lazy proxy: it follows configure_logging, which a worker process calls after import.
logger = structlog.get_logger("jobs")
{%- if cookiecutter.framework == "fastapi" %}
R = TypeVar("R")
{%- endif %}


class JobContext(Middleware):
    """Binds the message id, actor, attempt and request_id to every line a job writes, and
    writes one line per outcome: succeeded, failed (will retry) or dead-lettered."""

    def __init__(self) -> None:
        # Hooks run in the worker thread that processes the message.
        self._local = threading.local()

    def after_process_boot(self, broker: Broker) -> None:
        # A Dramatiq worker process points the standard streams at its log pipe, one line
        # at a time through the parent; the service's lines go to stdout, as the web's do.
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        settings = get_settings()
        logs.configure_logging(settings.log_level, settings.json_logs)
{%- if cookiecutter.sentry %}
        sentry.start(settings)
{%- endif %}
        # The broker's id names this process's heartbeat and its unacknowledged messages:
        # processes forked from one that built the broker would share it, and a killed one's
        # jobs would wait for the others to die too before they were redelivered.
        broker.broker_id = str(uuid.uuid4())  # type: ignore[attr-defined]

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        options = message.options
        current = request_id.current()
        if current is not None and "request_id" not in options:
            options["request_id"] = current
        # A message is enqueued again when it is retried and when a delayed one comes due;
        # only its first time counts as sent.
        self._local.first = SENT not in options
        options.setdefault(SENT, int(time.time() * 1000))

    def after_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        if self._local.first:
            metrics.ENQUEUED.labels(message.actor_name).inc()
        elif message.options.get("retries") and delay is not None:  # Retries, after a failure
            self._local.retry_in_ms = delay
            metrics.RETRIED.labels(message.actor_name).inc()

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        local = self._local
        local.started = time.perf_counter()
        local.retry_in_ms = None
        sent_by = message.options.get("request_id")
        local.request_token = request_id.bind(sent_by) if sent_by else None
        local.log_token = logs.bind_fields(
            {
                "message_id": message.message_id,
                "actor": message.actor_name,
                "attempt": message.options.get("retries", 0) + 1,
            }
        )

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        local = self._local
        seconds = time.perf_counter() - local.started
        actor = message.actor_name
        metrics.DURATION.labels(actor).observe(seconds)
        duration_ms = round(seconds * 1000, 2)
        if exception is None:
            metrics.SUCCEEDED.labels(actor).inc()
            logger.info("job_succeeded", duration_ms=duration_ms)
        else:
            metrics.FAILED.labels(actor).inc()
            error = type(exception).__name__
            if message.failed:  # Retries gave up: the broker moves it to the dead letters
                metrics.DEAD_LETTERED.labels(actor).inc()
                logger.error("job_dead_lettered", duration_ms=duration_ms, error=error)
{%- if cookiecutter.sentry %}
                # One event per job given up, not per attempt: a retry that succeeds is fine.
                sentry.capture(exception, actor=actor, message_id=message.message_id)
{%- endif %}
            else:
                logger.warning(
                    "job_failed",
                    duration_ms=duration_ms,
                    error=error,
                    retry_in_ms=local.retry_in_ms,
                )
        self._unbind()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        logger.warning("job_skipped")
        self._unbind()
{%- if cookiecutter.sentry %}

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        sentry.flush()  # the events still queued are sent before the process goes
{%- endif %}

    def _unbind(self) -> None:
        local = self._local
        logs.unbind_fields(local.log_token)
        if local.request_token is not None:
            request_id.unbind(local.request_token)


def notify_watchdog() -> None:
    """Tell systemd's watchdog (WatchdogSec) the worker is alive, when systemd runs it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.sendto(b"WATCHDOG=1", address)


class Liveness(Middleware):
    """Touches a file while the worker's threads are alive, and tells systemd's watchdog:
    the liveness check (`jobs.health`) reads the file's age. A hung or dead worker stops."""

    def __init__(self, path: str, max_age: float) -> None:
        self.path = Path(path)
        # Three touches per max age: one late touch does not fail the check.
        self.interval = max_age / 3
        self._stop = threading.Event()

    def after_worker_boot(self, broker: Broker, worker: Worker) -> None:
        self._stop.clear()
        threading.Thread(
            target=self._beat, args=(worker,), name="jobs-liveness", daemon=True
        ).start()

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        self._stop.set()

    def _beat(self, worker: Worker) -> None:
        while True:
            threads = [*worker.workers, *worker.consumers.values()]
            if threads and all(thread.is_alive() for thread in threads):
                try:
                    self.path.touch()
                    notify_watchdog()
                except OSError as error:  # the check then fails and says the file is missing
                    logger.error("liveness_unwritable", path=str(self.path), error=repr(error))
            if self._stop.wait(self.interval):
                return
{%- if cookiecutter.framework == "fastapi" %}


def run_coroutine(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run async work (the database's) on the worker process's event loop, from a job's
    thread, with the job's log fields and request_id: the loop's task would not see the
    thread's context otherwise."""
    fields, sent_by = logs.bound_fields(), request_id.current()

    async def in_context() -> R:
        # The task runs in a copy of the loop's context, so these bindings end with it.
        if fields is not None:
            logs.bind_fields(fields)
        if sent_by is not None:
            request_id.bind(sent_by)
        return await coroutine

    loop = get_event_loop_thread()
    if loop is None:
        raise RuntimeError("no event loop thread: the broker needs the AsyncIO middleware")
    return loop.run_coroutine(in_context())
{%- endif %}

"""The access log: one line per answered request, written at once or in batches.

It is the one log line every request pays for, so it skips structlog's general path: the
middleware records the request's raw values, and `render_access` turns them into the same JSON
line, with the same fields, order and escaping, that `logs` would have written.
"""

import contextlib
import logging
import sys
import threading
import time
from typing import Any

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.core.batching import Batch
from {{ cookiecutter.project_slug }}.core.logs import (
    dumps_line,
    get_logger,
    timestamp,
)

# What the access line of one request is made of, taken when it is answered: (level, method,
# route, path, status, duration in seconds, client, request ID, time in ns, principal: who the
# request authenticated as, if anyone, and (trace_id, span_id) when it was traced).
AccessEntry = tuple[
    str, str, str, str, int, float, str, str | None, int, str | None, tuple[str, str] | None
]


def _request_fields(entry: AccessEntry) -> dict[str, Any]:
    level_name, method, route, path, status, duration, client, _rid, _now, principal, trace = entry
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "path": path,
        "status": status,
        # round(duration * 1000, 2) to within float precision, in half the time.
        "duration_ms": round(duration * 100_000) / 100,
        "client": client,
    }
    if principal is not None:
        fields["principal"] = principal
    if level_name == "warning":
        fields["slow"] = True
    if trace is not None:
        fields["trace_id"], fields["span_id"] = trace
    return fields


def render_access(entry: AccessEntry) -> bytes:
    """One JSON access line, with the same fields, order and escaping as `stamp` and the
    structlog renderer would give it."""
    fields = _request_fields(entry)
    fields["event"] = "request"
    fields["level"] = entry[0]
    if entry[7] is not None:
        fields["request_id"] = entry[7]
    fields["timestamp"] = timestamp(entry[8])
    # Its keys are all strings, and orjson renders twice as fast without OPT_NON_STR_KEYS.
    return dumps_line(fields, option=0)


class AccessLines:
    """Where access lines go: rendered and written at once, or, once a server worker has called
    `batch_access_lines`, queued as raw values and rendered and written in batches
    (`batching.Batch`).

    Per request that leaves a tuple appended to a queue: no system call (in a threaded worker no
    hand-over of the GIL either). In an event loop the batch is written on the loop's next turn,
    between requests, so it never holds up one for long. Where no loop runs (a threaded worker),
    a thread started by the first such line writes whatever is queued every FLUSH_SECONDS; an
    event loop's worker starts none, since waking up to take the GIL fifty times a second cost
    it more than rendering its lines. Lines reach stdout up to FLUSH_SECONDS late; a worker
    killed with SIGKILL loses at most that much, and gunicorn.conf.py flushes them when a worker
    exits however it was asked to stop.
    """

    FLUSH_SECONDS = 0.02

    def __init__(self) -> None:
        self.batched = False
        self.thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._batch: Batch[AccessEntry] = Batch(self._write, self._start_thread)

    def add(self, entry: AccessEntry) -> None:
        if self.batched:
            self._batch.add(entry)
        else:
            self._write([entry])

    def start_batching(self) -> None:
        self.batched = True

    def flush(self) -> None:
        """Write every queued line now."""
        self._batch.drain()

    @staticmethod
    def _write(entries: list[AccessEntry]) -> None:
        lines = [render_access(entry) for entry in entries]
        with contextlib.suppress(OSError, ValueError):  # stdout closed: drop, never hoard
            out = sys.stdout.buffer
            out.write(b"\n".join(lines) + b"\n")
            out.flush()

    def _start_thread(self) -> None:
        if self.thread is not None:
            return
        with self._thread_lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._flush_forever, name="access-log", daemon=True
                )
                self.thread.start()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()


_access_lines = AccessLines()


def batch_access_lines() -> None:
    """Write access lines in batches from now on (a server worker calls this once it runs)."""
    _access_lines.start_batching()


def flush_access_lines() -> None:
    """Write every queued access line now (at worker exit, where a closed stdout must not stop
    the metrics and pools from being closed after it)."""
    _access_lines.flush()


class AccessLog:
    """The one line per request: `info`, `warning` with `slow: true` past the threshold, and
    `debug` for probes and scrapes.

    With JSON logs the line is rendered by `render_access` and written by `AccessLines`,
    instead of going through structlog's general path (a context copy and the processor chain
    per call): it runs for every request, and that path cost as much as the rest of the
    middleware together (docs/benchmarks.md in the template). The fields, escaping and stream
    are the same.
    """

    def __init__(self, level: str, json_logs: bool, slow_seconds: float) -> None:
        self.level = logging.getLevelNamesMapping()[level]
        self.json_logs = json_logs
        self.slow_seconds = slow_seconds
        self.fallback = get_logger("access")

    def record(
        self,
        method: str,
        route: str,
        path: str,
        status: int,
        duration: float,
        client: str,
        quiet: bool = False,
        principal: str | None = None,
        trace: tuple[str, str] | None = None,
    ) -> None:
        """One line for an answered request; `quiet` (probes, scrapes) logs it at debug;
        `trace`, the ids of the span it was served in."""
        if quiet:
            level, level_name = logging.DEBUG, "debug"
        elif duration > self.slow_seconds:
            level, level_name = logging.WARNING, "warning"
        else:
            level, level_name = logging.INFO, "info"
        if level < self.level:
            return
        entry: AccessEntry = (
            level_name,
            method,
            route,
            path,
            status,
            duration,
            client,
            request_id.current(),
            time.time_ns(),
            principal,
            trace,
        )
        if self.json_logs:
            _access_lines.add(entry)
        else:
            getattr(self.fallback, level_name)("request", **_request_fields(entry))

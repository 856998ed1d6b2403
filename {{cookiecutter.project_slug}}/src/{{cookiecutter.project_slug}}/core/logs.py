"""Structured logs on stdout: one JSON object per line, or a readable console in development.

The service's own events go through structlog straight to stdout: a filtering logger does no
work at all for records below the level, and orjson renders the rest. Records from the
standard library, gunicorn and uvicorn go through `ProcessorFormatter` with the same processors
and renderer, so the stream has one format. JSON escapes control characters, and the console
renderer gets its values escaped first, so nothing a client sends can break or forge a line.
"""

import contextlib
import json
import logging
import sys
import threading
import time
from typing import Any, BinaryIO, TextIO, cast

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.core.batching import Batch

# Loggers of the servers we run under; their records go through our formatter.
SERVER_LOGGERS = ("gunicorn.error", "uvicorn", "uvicorn.error", "werkzeug")


class _Stdout:
    """sys.stdout as it is when a line is written, not when logging was configured:
    servers and test runners replace it."""

    def __init__(self, binary: bool) -> None:
        self.binary = binary

    def write(self, data: Any) -> None:
        (sys.stdout.buffer if self.binary else sys.stdout).write(data)

    def flush(self) -> None:
        sys.stdout.flush()


# (second, its ISO 8601 text): formatting the date once per second, not once per line.
_second: tuple[int, str] = (-1, "")
_LEVEL_NAMES = {"exception": "error", "warn": "warning"}


def timestamp(now_ns: int | None = None) -> str:
    """Now (or `now_ns`) in ISO 8601 UTC with microseconds, e.g. 2025-01-31T12:00:00.123456Z."""
    global _second  # a one-entry cache, replaced whole, so threads never see half of it
    second, micros = divmod((time.time_ns() if now_ns is None else now_ns) // 1000, 1_000_000)
    cached = _second
    if cached[0] != second:
        cached = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{micros:06d}Z"


def stamp(_logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """Level, request_id and timestamp in one step: it runs for every line."""
    event_dict["level"] = _LEVEL_NAMES.get(method, method)
    current = request_id.current()
    if current is not None:
        event_dict.setdefault("request_id", current)
    event_dict["timestamp"] = timestamp()
    return event_dict


# Valid unescaped in JSON, but line breaks to many readers (Python's splitlines, JavaScript):
# a client could otherwise split one record in two.
_LINE_BREAKS = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)


def _dumps(event_dict: EventDict, option: int = orjson.OPT_NON_STR_KEYS) -> bytes:
    try:
        line = orjson.dumps(event_dict, default=str, option=option)
    except orjson.JSONEncodeError:
        # e.g. lone surrogates, which orjson refuses; the standard library escapes them.
        return json.dumps(event_dict, default=str, ensure_ascii=True).encode()
    if not line.isascii():  # one fast scan instead of three searches on every line
        for raw, escaped in _LINE_BREAKS:
            line = line.replace(raw, escaped)
    return line


def render_json_bytes(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> bytes:
    return _dumps(event_dict)


def render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> str:
    return _dumps(event_dict).decode()


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("unicode_escape").decode("ascii")
    return value


def escape_values(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Console lines: every string value escaped, so a newline cannot start a fake line."""
    return {key: _escape(value) for key, value in event_dict.items()}


def _renderers(json_logs: bool) -> tuple[list[Processor], Processor]:
    """(processors before rendering, renderer for the standard library's formatter)."""
    if json_logs:
        return [structlog.processors.format_exc_info], render_json
    console = structlog.dev.ConsoleRenderer(colors=False)
    return [structlog.processors.format_exc_info, escape_values], console


def formatter(json_logs: bool = True) -> structlog.stdlib.ProcessorFormatter:
    """The formatter for standard library handlers (gunicorn's logconfig_dict uses it)."""
    finishing, renderer = _renderers(json_logs)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, stamp],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *finishing,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    level_number = logging.getLevelNamesMapping()[level]
    finishing, renderer = _renderers(json_logs)
    structlog.configure(
        processors=[
            stamp,
            *finishing,
            render_json_bytes if json_logs else renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_number),
        logger_factory=(
            structlog.BytesLoggerFactory(cast(BinaryIO, _Stdout(binary=True)))
            if json_logs
            else structlog.PrintLoggerFactory(cast(TextIO, _Stdout(binary=False)))
        ),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(cast(TextIO, _Stdout(binary=False)))
    handler.setFormatter(formatter(json_logs))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level_number)
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers = []
        server_logger.propagate = True
    # uvicorn's own access log would duplicate ours.
    logging.getLogger("uvicorn.access").disabled = True


# What the access line of one request is made of, taken when it is answered:
# (level, method, route, path, status, duration in seconds, client, request ID, time in ns).
AccessEntry = tuple[str, str, str, str, int, float, str, str | None, int]


def _request_fields(entry: AccessEntry) -> dict[str, Any]:
    level_name, method, route, path, status, duration, client, _rid, _now_ns = entry
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "path": path,
        "status": status,
        # round(duration * 1000, 2) to within float precision, in half the time.
        "duration_ms": round(duration * 100_000) / 100,
        "client": client,
    }
    if level_name == "warning":
        fields["slow"] = True
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
    return _dumps(fields, option=0)


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
    ) -> None:
        """One line for an answered request; `quiet` (probes, scrapes) logs it at debug."""
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
        )
        if self.json_logs:
            _access_lines.add(entry)
        else:
            getattr(self.fallback, level_name)("request", **_request_fields(entry))


def get_logger(name: str) -> Any:
    """A logger bound to the current configuration (call after `configure_logging`)."""
    return structlog.get_logger(name).bind()

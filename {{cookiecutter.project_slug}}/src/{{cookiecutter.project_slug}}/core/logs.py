"""Structured logs on stdout: one JSON object per line, or a readable console in development.

The service's own events go through structlog straight to stdout: a filtering logger does no
work at all for records below the level, and orjson renders the rest. Records from the
standard library, gunicorn and uvicorn go through `ProcessorFormatter` with the same processors
and renderer, so the stream has one format. JSON escapes control characters, and the console
renderer gets its values escaped first, so nothing a client sends can break or forge a line.
"""

import json
import logging
import sys
import time
{%- if cookiecutter.background_jobs %}
from contextvars import ContextVar, Token
{%- endif %}
from typing import Any, BinaryIO, TextIO, cast

import orjson
import structlog
{%- if cookiecutter.opentelemetry %}
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id
{%- endif %}
from structlog.typing import EventDict, Processor, WrappedLogger

from {{ cookiecutter.project_slug }}.core import request_id

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
{%- if cookiecutter.background_jobs %}


# Fields every line carries while they are bound: a job's message id, actor and attempt.
_fields: ContextVar[dict[str, Any] | None] = ContextVar("log_fields", default=None)


def bind_fields(fields: dict[str, Any]) -> Token[dict[str, Any] | None]:
    return _fields.set(fields)


def unbind_fields(token: Token[dict[str, Any] | None]) -> None:
    _fields.reset(token)


def bound_fields() -> dict[str, Any] | None:
    return _fields.get()
{%- endif %}


def stamp(_logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """Level, request_id and timestamp in one step: it runs for every line."""
    event_dict["level"] = _LEVEL_NAMES.get(method, method)
    current = request_id.current()
    if current is not None:
        event_dict.setdefault("request_id", current)
{%- if cookiecutter.background_jobs %}
    fields = _fields.get()
    if fields is not None:
        for key in fields:
            event_dict.setdefault(key, fields[key])
{%- endif %}
    event_dict["timestamp"] = timestamp()
    return event_dict
{%- if cookiecutter.opentelemetry %}


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """`trace_id` and `span_id` of the span the line is written in (core/tracing.py)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format_trace_id(context.trace_id))
        event_dict.setdefault("span_id", format_span_id(context.span_id))
    return event_dict


# What every line gets before it is rendered.
STAMPS: list[Processor] = [stamp, add_trace_ids]
{%- else %}


# What every line gets before it is rendered.
STAMPS: list[Processor] = [stamp]
{%- endif %}


# Valid unescaped in JSON, but line breaks to many readers (Python's splitlines, JavaScript):
# a client could otherwise split one record in two.
_LINE_BREAKS = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)


def dumps_line(event_dict: EventDict, option: int = orjson.OPT_NON_STR_KEYS) -> bytes:
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
    return dumps_line(event_dict)


def render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> str:
    return dumps_line(event_dict).decode()


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
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *STAMPS],
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
            *STAMPS,
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


def get_logger(name: str) -> Any:
    """A logger bound to the current configuration (call after `configure_logging`)."""
    return structlog.get_logger(name).bind()

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
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from {{ cookiecutter.project_slug }} import request_id

# Loggers of the servers we run under; their records go through our formatter.
SERVER_LOGGERS = ("gunicorn.error", "uvicorn", "uvicorn.error", "werkzeug")


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    current = request_id.current()
    if current is not None:
        event_dict.setdefault("request_id", current)
    return event_dict


def _dumps(event_dict: EventDict) -> bytes:
    try:
        return orjson.dumps(event_dict, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # e.g. lone surrogates, which orjson refuses; the standard library escapes them.
        return json.dumps(event_dict, default=str, ensure_ascii=True).encode()


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
        foreign_pre_chain=[
            structlog.processors.add_log_level,
            structlog.stdlib.add_logger_name,
            add_request_id,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        ],
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
            structlog.processors.add_log_level,
            add_request_id,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            *finishing,
            render_json_bytes if json_logs else renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_number),
        logger_factory=(
            structlog.BytesLoggerFactory(sys.stdout.buffer)
            if json_logs
            else structlog.PrintLoggerFactory(sys.stdout)
        ),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
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

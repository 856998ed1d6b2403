"""Engine options from the settings, the same for the sync and the async engine."""

import math
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.db.url import is_memory_sqlite


def engine_options(url: URL, settings: Settings) -> dict[str, Any]:
    """Keyword arguments for create_engine / create_async_engine."""
    # pre-ping replaces connections the server dropped (restart, idle timeout) before use.
    options: dict[str, Any] = {"pool_pre_ping": True, "connect_args": connect_args(url, settings)}
    if not is_memory_sqlite(url):
        options |= {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout,
            "pool_recycle": settings.db_pool_recycle,
        }
    return options


def connect_args(url: URL, settings: Settings) -> dict[str, Any]:
    """Driver arguments: a connect timeout everywhere, then what each database needs."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        # libpq takes whole seconds; the statement timeout is a server setting for the session.
        args: dict[str, Any] = {"connect_timeout": max(1, math.ceil(settings.db_connect_timeout))}
        if settings.db_statement_timeout_ms:
            args["options"] = f"-c statement_timeout={settings.db_statement_timeout_ms}"
        return args
    if backend in {"mysql", "mariadb"}:
        # utf8mb4: MySQL's "utf8" holds only three bytes per character (no emoji).
        return {"connect_timeout": settings.db_connect_timeout, "charset": "utf8mb4"}
    return {}


def prepare_engine(engine: Engine, settings: Settings) -> None:
    """SQLite needs each connection set up: WAL lets readers run beside a writer, foreign keys
    are off unless asked for, and a busy timeout waits for a lock instead of failing at once."""
    if engine.url.get_backend_name() != "sqlite":
        return
    busy_timeout_ms = int(settings.db_connect_timeout * 1000)

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    event.listen(engine, "connect", on_connect)

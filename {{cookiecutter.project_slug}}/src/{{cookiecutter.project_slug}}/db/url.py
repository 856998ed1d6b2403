"""Map a 12-factor DATABASE_URL to the SQLAlchemy URL of the driver this service uses.

Platforms hand out plain URLs (`postgres://`, `postgresql://`, `mysql://`, `sqlite:///path`);
SQLAlchemy needs a driver in the scheme. An explicit driver (`postgresql+asyncpg://`) is kept,
except where the other mode needs a driver of its own (migrations run synchronously).
"""

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# backend -> (driver for the sync engine, driver for the async engine); see docs/data-layer.md.
DRIVERS = {
    "postgresql": ("psycopg", "psycopg"),
    "mysql": ("pymysql", "aiomysql"),
    "mariadb": ("pymysql", "aiomysql"),
    "sqlite": ("pysqlite", "aiosqlite"),
}
ALIASES = {"postgres": "postgresql"}
ASYNC_ONLY = {"asyncpg", "psycopg_async", "aiomysql", "asyncmy", "aiosqlite"}
SYNC_ONLY = {"psycopg2", "pg8000", "pymysql", "mysqldb", "mysqlconnector", "pysqlite"}


def parse(database_url: str) -> URL:
    """The URL with its backend checked; the error names the setting, never the password."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ValueError("DATABASE_URL is not a URL such as postgresql://host/name") from None
    backend = ALIASES.get(url.get_backend_name(), url.get_backend_name())
    if backend not in DRIVERS:
        allowed = ", ".join(sorted(DRIVERS))
        raise ValueError(f"DATABASE_URL: unsupported database {backend!r}; use one of {allowed}")
    return url.set(drivername=_join(backend, _explicit_driver(url)))


def sync_url(database_url: str) -> URL:
    """For the sync engine (Flask) and for Alembic."""
    return _with_driver(parse(database_url), asynchronous=False)


def async_url(database_url: str) -> URL:
    """For the async engine (FastAPI)."""
    return _with_driver(parse(database_url), asynchronous=True)


def is_memory_sqlite(url: URL) -> bool:
    """An in-memory SQLite database lives in one connection: it takes no pool settings."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _with_driver(url: URL, *, asynchronous: bool) -> URL:
    backend = url.get_backend_name()
    driver = _explicit_driver(url)
    wrong_mode = SYNC_ONLY if asynchronous else ASYNC_ONLY
    if driver is None or driver in wrong_mode:
        driver = DRIVERS[backend][1 if asynchronous else 0]
    return url.set(drivername=_join(backend, driver))


def _explicit_driver(url: URL) -> str | None:
    # SQLAlchemy reports a default driver for a plain scheme; only a "+driver" counts here.
    return url.get_driver_name() if "+" in url.drivername else None


def _join(backend: str, driver: str | None) -> str:
    return f"{backend}+{driver}" if driver else backend

import pytest

from {{ cookiecutter.project_slug }}.db.url import (
    async_url,
    is_memory_sqlite,
    sync_url,
)


@pytest.mark.parametrize(
    ("given", "sync", "asynchronous"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://u:p@db/app", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+asyncpg://u@db/app", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql+psycopg2://u@db/app", "postgresql+psycopg2", "postgresql+psycopg"),
        ("mysql://u:p@db:3306/app", "mysql+pymysql", "mysql+aiomysql"),
        ("mysql+asyncmy://u@db/app", "mysql+pymysql", "mysql+asyncmy"),
        ("mariadb://u@db/app", "mariadb+pymysql", "mariadb+aiomysql"),
        ("sqlite:///./app.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:////var/lib/app.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
    ],
)
def test_plain_and_explicit_urls_map_to_a_driver(given, sync, asynchronous):
    assert sync_url(given).drivername == sync
    assert async_url(given).drivername == asynchronous


def test_everything_but_the_scheme_is_kept():
    url = sync_url("postgres://user:p%40ss@db:6543/orders?sslmode=require")
    assert (url.username, url.password, url.host, url.port) == ("user", "p@ss", "db", 6543)
    assert url.database == "orders"
    assert url.query == {"sslmode": "require"}


@pytest.mark.parametrize("given", ["oracle://u@db/app", "redis://localhost:6379/0"])
def test_unsupported_databases_are_refused_by_name(given):
    with pytest.raises(ValueError, match="DATABASE_URL: unsupported database"):
        sync_url(given)


def test_a_malformed_url_is_refused_without_echoing_it():
    with pytest.raises(ValueError, match="DATABASE_URL is not a URL") as caught:
        async_url("not a url with secret")
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "memory"),
    [("sqlite://", True), ("sqlite:///:memory:", True), ("sqlite:///app.db", False)],
)
def test_memory_sqlite_is_recognised(given, memory):
    assert is_memory_sqlite(sync_url(given)) is memory

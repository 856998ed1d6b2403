"""The sync engine and its sessions, against whatever database DATABASE_URL names."""

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.errors import (
    ServiceUnavailableError,
)
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import Item


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    database = Database(Settings(database_url=database_url, db_pool_size=2))
    yield database
    database.dispose()


def count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def test_ping_selects_one(database):
    database.ping()


def test_session_commits_on_success(database):
    with database.session() as session:
        session.add(Item(name="kept"))
    assert count(database) == 1


def test_session_rolls_back_on_error(database):
    with pytest.raises(RuntimeError, match="boom"), database.session() as session:
        session.add(Item(name="dropped"))
        session.flush()
        raise RuntimeError("boom")
    assert count(database) == 0


def test_session_is_closed_afterwards(database):
    with database.session() as session:
        pass
    assert not session.in_transaction()


def test_an_unreachable_database_is_a_503(unreachable_url):
    database = Database(
        Settings(database_url=unreachable_url, db_connect_timeout=1, db_pool_timeout=1)
    )
    with pytest.raises(ServiceUnavailableError) as caught, database.session() as session:
        session.execute(text("SELECT 1"))
    assert caught.value.status_code == 503
    database.dispose()


def test_sqlite_connections_are_set_up(database):
    if database.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000

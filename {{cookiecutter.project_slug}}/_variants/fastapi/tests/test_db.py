"""The async engine and its sessions, against whatever database DATABASE_URL names."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.errors import (
    ServiceUnavailableError,
)
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import Item

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def database(database_url) -> AsyncIterator[Database]:
    database = Database(Settings(database_url=database_url, db_pool_size=2))
    yield database
    await database.dispose()


async def count(database: Database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(Item)) or 0


async def test_ping_selects_one(database):
    await database.ping()


async def test_session_commits_on_success(database):
    async with database.session() as session:
        session.add(Item(name="kept"))
    assert await count(database) == 1


async def test_session_rolls_back_on_error(database):
    with pytest.raises(RuntimeError, match="boom"):
        async with database.session() as session:
            session.add(Item(name="dropped"))
            await session.flush()
            raise RuntimeError("boom")
    assert await count(database) == 0


async def test_session_is_closed_afterwards(database):
    async with database.session() as session:
        pass
    assert not session.in_transaction()


async def test_an_unreachable_database_is_a_503(unreachable_url):
    database = Database(
        Settings(database_url=unreachable_url, db_connect_timeout=1, db_pool_timeout=1)
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
    assert caught.value.status_code == 503
    await database.dispose()


async def test_sqlite_connections_are_set_up(database):
    if database.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000

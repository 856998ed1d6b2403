"""The database for FastAPI: an async engine, its connections and transactions."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.db import metrics
from {{ cookiecutter.project_slug }}.db.engine_options import (
    engine_options,
    prepare_engine,
)
from {{ cookiecutter.project_slug }}.db.unavailable import (
    as_service_unavailable,
)
from {{ cookiecutter.project_slug }}.db.url import async_url


class Database:
    def __init__(self, settings: Settings) -> None:
        url = async_url(settings.database_url.get_secret_value())
        self.engine = create_async_engine(url, **engine_options(url, settings))
        metrics.watch(self.engine.pool)
        prepare_engine(self.engine.sync_engine, settings)
        # Objects stay readable after the commit, without another round trip.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One ORM unit of work (the background jobs' writes): commit on success, roll back
        on error, always close."""
        with as_service_unavailable():
            async with self.sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for reads; its transaction ends when it goes back to the pool."""
        with as_service_unavailable():
            async with self.engine.connect() as connection:
                yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for writes, in one transaction: committed on success, rolled
        back on error."""
        with as_service_unavailable():
            async with self.engine.begin() as connection:
                yield connection

"""The database for FastAPI: an async engine, and one session per request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.errors import (
    ServiceUnavailableError,
)
from {{ cookiecutter.project_slug }}.db import metrics
from {{ cookiecutter.project_slug }}.db.engine_options import (
    engine_options,
    prepare_engine,
)
from {{ cookiecutter.project_slug }}.db.unavailable import (
    DOWN_MESSAGE,
    UNAVAILABLE,
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
        """One unit of work: commit on success, roll back on error, always close."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except UNAVAILABLE as error:
            metrics.count_failure(error)
            raise ServiceUnavailableError(DOWN_MESSAGE) from error

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for reads; its transaction ends when it goes back to the pool."""
        try:
            async with self.engine.connect() as connection:
                yield connection
        except UNAVAILABLE as error:
            metrics.count_failure(error)
            raise ServiceUnavailableError(DOWN_MESSAGE) from error


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.session() as session:
        yield session


# scope="function" ends the session when the endpoint returns, before the response is sent:
# a commit that fails becomes a 503 instead of a 201 for a row that was never stored.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]

"""The database for Flask: a sync engine, its connections and transactions."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.db import metrics
from {{ cookiecutter.project_slug }}.db.engine_options import (
    engine_options,
    prepare_engine,
)
from {{ cookiecutter.project_slug }}.db.unavailable import (
    as_service_unavailable,
)
from {{ cookiecutter.project_slug }}.db.url import sync_url


class Database:
    def __init__(self, settings: Settings) -> None:
        url = sync_url(settings.database_url.get_secret_value())
        self.engine = create_engine(url, **engine_options(url, settings))
        metrics.watch(self.engine.pool)
        prepare_engine(self.engine, settings)
        # Objects stay readable after the commit, without another round trip.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One ORM unit of work (the background jobs' writes): commit on success, roll back
        on error, always close."""
        with as_service_unavailable(), self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection for reads; its transaction ends when it goes back to the pool."""
        with as_service_unavailable(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A pooled connection for writes, in one transaction: committed on success, rolled
        back on error."""
        with as_service_unavailable(), self.engine.begin() as connection:
            yield connection

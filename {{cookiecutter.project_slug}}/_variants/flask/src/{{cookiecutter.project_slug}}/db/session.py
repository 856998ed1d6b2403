"""The database for Flask: a sync engine, and one session per request."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from flask import current_app
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

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
from {{ cookiecutter.project_slug }}.db.url import sync_url

P = ParamSpec("P")
R = TypeVar("R")


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
        """One unit of work: commit on success, roll back on error, always close."""
        try:
            with self.sessions() as session, session.begin():
                yield session
        except UNAVAILABLE as error:
            metrics.count_failure(error)
            raise ServiceUnavailableError(DOWN_MESSAGE) from error

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection for reads; its transaction ends when it goes back to the pool."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except UNAVAILABLE as error:
            metrics.count_failure(error)
            raise ServiceUnavailableError(DOWN_MESSAGE) from error


def with_session(view: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Give a view the request's session. It is committed when the view returns, inside the
    request, so a commit that fails becomes a 503 instead of a 201 for a row never stored
    (a teardown handler runs only after the response is made)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        database: Database = current_app.extensions["database"]
        with database.session() as session:
            return view(session, *args, **kwargs)

    return wrapper

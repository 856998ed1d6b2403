"""What counts as "the database cannot be reached now" (down, restarting, pool exhausted)
rather than "this request is wrong": clients get a 503 and may retry."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from {{ cookiecutter.project_slug }}.core.errors import (
    ServiceUnavailableError,
)
from {{ cookiecutter.project_slug }}.db import metrics

UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    TimeoutError,
    ConnectionError,
)
DOWN_MESSAGE = "The database is unavailable; try again shortly"


@contextmanager
def as_service_unavailable() -> Iterator[None]:
    """A failure to reach the database, counted, and raised as the 503 the error handlers
    render."""
    try:
        yield
    except UNAVAILABLE as error:
        metrics.count_failure(error)
        raise ServiceUnavailableError(DOWN_MESSAGE) from error

"""What counts as "the database cannot be reached now" (down, restarting, pool exhausted)
rather than "this request is wrong": clients get a 503 and may retry."""

from sqlalchemy import exc

UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    TimeoutError,
    ConnectionError,
)
DOWN_MESSAGE = "The database is unavailable; try again shortly"

"""The example resource's table, as a SQLAlchemy 2 typed declarative model."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.project_slug }}.core.errors import NotFoundError
from {{ cookiecutter.project_slug }}.db.base import (
    Base,
    Timestamp,
    utcnow,
)

NAME_MAX_LENGTH = 200
# Item ids are 32-bit integers on every database: a larger id cannot exist (and would make
# PostgreSQL raise an out-of-range error rather than find nothing).
ID_MAX = 2**31 - 1
DESCRIPTION_MAX_LENGTH = 2000


def can_exist(item_id: int) -> bool:
    """Whether a row can have this id: the reads and writes ask before they query."""
    return 1 <= item_id <= ID_MAX


def not_found(item_id: int) -> NotFoundError:
    return NotFoundError(f"Item {item_id} not found")


class Item(Base):
    __tablename__ = "items"
{%- if cookiecutter.database == "mysql" %}
    # Four-byte UTF-8 whatever the server's default character set.
    __table_args__ = {"mysql_charset": "utf8mb4"}  # noqa: RUF012 - SQLAlchemy's own attribute
{%- endif %}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Set by the service in UTC, so every database stores the same instants.
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp(), default=utcnow, onupdate=utcnow)
{%- if cookiecutter.background_jobs %}
    # Set once by the example background job (items/jobs.py); null until it has run.
    processed_at: Mapped[datetime | None] = mapped_column(Timestamp(), default=None)
{%- endif %}

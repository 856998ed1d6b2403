"""Database tables, as SQLAlchemy 2 typed declarative models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: Alembic can then alter or drop them on every database alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
NAME_MAX_LENGTH = 200
# Item ids are 32-bit integers on every database: a larger id cannot exist (and would make
# PostgreSQL raise an out-of-range error rather than find nothing).
ID_MAX = 2**31 - 1
DESCRIPTION_MAX_LENGTH = 2000
# Aware UTC instants; MySQL keeps whole seconds unless asked for microseconds.
Timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Item(Base):
    __tablename__ = "items"
    # MySQL: four-byte UTF-8 whatever the server's default character set.
    __table_args__ = {"mysql_charset": "utf8mb4"}  # noqa: RUF012 - SQLAlchemy's own attribute

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Set by the service in UTC, so every database stores the same instants.
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

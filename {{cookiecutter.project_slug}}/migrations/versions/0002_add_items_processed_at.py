"""Add items.processed_at, set by the example background job.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # Nullable, no default: existing items read as not processed yet.
    op.add_column("items", sa.Column("processed_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    # batch: SQLite cannot drop a column in place on every version.
    with op.batch_alter_table("items") as batch:
        batch.drop_column("processed_at")

"""Alembic's entry point: the settings say where the database is, the models what it holds.

Migrations run synchronously for both frameworks, with the sync driver of the same database
(installed with the service either way): they are one-off commands, not request handling.
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

from {{ cookiecutter.project_slug }}.config import get_settings
from {{ cookiecutter.project_slug }}.db.base import Timestamp
from {{ cookiecutter.project_slug }}.db.engine_options import (
    connect_args,
    prepare_engine,
)
from {{ cookiecutter.project_slug }}.db.models import Base
from {{ cookiecutter.project_slug }}.db.url import sync_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)

# A long migration must not hit the request statement timeout.
settings = get_settings().model_copy(update={"db_statement_timeout_ms": 0})
# Tests (or a caller) may name the database in the config; DATABASE_URL otherwise.
url: URL = sync_url(
    config.get_main_option("sqlalchemy.url") or settings.database_url.get_secret_value()
)


# What base.Timestamp is stored as, in the form the first migrations write it.
STORED_AS = 'sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'


def render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """A new migration writes a Timestamp column as the type it is stored as, as the first
    migrations do: a migration never imports the service's code, which may change later."""
    if kind == "type" and isinstance(item, Timestamp):
        autogen.imports.add("from sqlalchemy.dialects import mysql")
        return STORED_AS
    return False  # alembic's own rendering


options = {
    "target_metadata": Base.metadata,
    "render_item": render_item,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    "render_as_batch": url.get_backend_name() == "sqlite",
    "compare_type": True,
}

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args(url, settings))
    prepare_engine(engine, settings)
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()

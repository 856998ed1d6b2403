from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from {{ cookiecutter.project_slug }}.db.models import Base


def test_migrations_match_the_models(sync_engine):
    # What `alembic check` does: the schema the migrations built differs in nothing.
    with sync_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_alembic_check_finds_nothing_to_generate(alembic_config):
    command.check(alembic_config)


def test_migrations_go_down_and_up_again(sync_engine, alembic_config):
    command.downgrade(alembic_config, "base")
    assert "items" not in inspect(sync_engine).get_table_names()
    command.upgrade(alembic_config, "head")
    assert "items" in inspect(sync_engine).get_table_names()

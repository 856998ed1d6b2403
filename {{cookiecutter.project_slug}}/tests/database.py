"""Database fixtures: the tests use DATABASE_URL, or a temporary SQLite file when it is unset.

The schema is built once per run by the migrations themselves; every test starts with empty
tables.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, make_url, text

from {{ cookiecutter.project_slug }}.db.models import Base
from {{ cookiecutter.project_slug }}.db.url import sync_url

PROJECT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="test-database-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/test.db"
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(scope="session")
def unreachable_url(database_url: str) -> str:
    """The same kind of database, somewhere nothing answers."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return "sqlite:////nonexistent-folder/unreachable.db"
    return url.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)


def make_alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    # The test run keeps its own logging set-up.
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ["DATABASE_URL"]


@pytest.fixture
def alembic_config(database_url: str) -> Config:
    return make_alembic_config(database_url)


@pytest.fixture(scope="session")
def sync_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sync_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def schema(sync_engine: Engine, database_url: str) -> None:
    """A fresh schema, whatever an earlier run left behind, made by `alembic upgrade head`."""
    Base.metadata.drop_all(sync_engine)
    with sync_engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    command.upgrade(make_alembic_config(database_url), "head")


@pytest.fixture(autouse=True)
def empty_tables(sync_engine: Engine) -> Iterator[None]:
    yield
    with sync_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())

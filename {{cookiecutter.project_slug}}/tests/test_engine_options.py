import pytest

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.db.engine_options import (
    connect_args,
    engine_options,
)
from {{ cookiecutter.project_slug }}.db.url import sync_url


@pytest.fixture
def settings():
    return Settings(
        db_pool_size=3,
        db_max_overflow=4,
        db_pool_timeout=2.5,
        db_pool_recycle=600,
        db_connect_timeout=1.5,
        db_statement_timeout_ms=750,
    )


def test_pool_settings_come_from_the_environment(settings):
    options = engine_options(sync_url("postgresql://db/app"), settings)
    assert options["pool_pre_ping"] is True
    assert (options["pool_size"], options["max_overflow"]) == (3, 4)
    assert (options["pool_timeout"], options["pool_recycle"]) == (2.5, 600)


def test_memory_sqlite_takes_no_pool_settings(settings):
    assert "pool_size" not in engine_options(sync_url("sqlite://"), settings)


def test_postgresql_gets_a_connect_and_a_statement_timeout(settings):
    args = connect_args(sync_url("postgres://db/app"), settings)
    # libpq counts whole seconds, rounded up so a timeout is never shorter than asked.
    assert args == {"connect_timeout": 2, "options": "-c statement_timeout=750"}


def test_postgresql_statement_timeout_can_be_off(settings):
    settings.db_statement_timeout_ms = 0
    assert "options" not in connect_args(sync_url("postgresql://db/app"), settings)


@pytest.mark.parametrize("url", ["mysql://db/app", "mariadb://db/app"])
def test_mysql_speaks_utf8mb4(settings, url):
    assert connect_args(sync_url(url), settings) == {"connect_timeout": 1.5, "charset": "utf8mb4"}


def test_sqlite_is_set_up_per_connection_not_by_arguments(settings):
    assert connect_args(sync_url("sqlite:///app.db"), settings) == {}

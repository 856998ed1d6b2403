from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.config import Settings
{%- if cookiecutter.database != "none" %}

# DATABASE_URL or a temporary SQLite file; a fresh schema; empty tables for every test.
pytest_plugins = ["tests.database"]
{%- endif %}


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", secret_key="t" * 40)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client

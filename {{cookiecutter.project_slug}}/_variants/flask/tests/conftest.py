"""Give the shared tests an httpx-style client over Flask's test client."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.config import Settings
{%- if cookiecutter.database != "none" %}

# DATABASE_URL or a temporary SQLite file; a fresh schema; empty tables for every test.
pytest_plugins = ["tests.database"]
{%- endif %}


class Response:
    def __init__(self, status_code: int, headers: Any, text: str) -> None:
        self.status_code = status_code
        self.headers = headers
        self.text = text

    def json(self) -> Any:
        return json.loads(self.text)


class Client:
    """The subset of httpx.Client the shared tests use."""

    def __init__(self, flask_client: FlaskClient) -> None:
        self._client = flask_client

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        if "params" in kwargs:
            kwargs["query_string"] = kwargs.pop("params")
        result = self._client.open(url, method=method, **kwargs)
        return Response(result.status_code, result.headers, result.get_data(as_text=True))

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", secret_key="t" * 40)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    app = create_app(settings)
    app.testing = True
    yield Client(app.test_client())

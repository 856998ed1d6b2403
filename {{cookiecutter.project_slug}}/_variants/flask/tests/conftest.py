"""Fixtures: the app with a few test-only routes, built from settings a test can override,
and an httpx-style client over Flask's test client, so the shared tests run on both."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import {{ "Blueprint, Flask" if cookiecutter.auth != "none" else "Flask" }}, request
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.app import create_app
{%- if cookiecutter.auth != "none" %}
from {{ cookiecutter.project_slug }}.core.auth import ResourceScopes
from {{ cookiecutter.project_slug }}.core.auth.guard import (
    caller,
    require,
)
{%- endif %}
from {{ cookiecutter.project_slug }}.core.errors import ConflictError

from .early import pytest_collection_finish  # noqa: F401 - a hook: processes started early
{% if cookiecutter.background_jobs %}from .jobs.stub import jobs_broker  # noqa: F401 - a fixture: the actors on a stub broker
{% endif %}from .settings import CREDENTIALS, Thing, base_settings


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

    def options(self, url: str, **kwargs: Any) -> Response:
        return self.request("OPTIONS", url, **kwargs)


def add_test_routes(app: Flask) -> None:
    @app.get("/test/boom")
    def boom() -> str:
        raise RuntimeError("boom\nforged line")

    @app.post("/test/echo")
    def echo() -> dict[str, int]:
        return {"received": len(request.get_data())}

    @app.get("/test/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.post("/test/things")
    def things() -> dict[str, Any]:
        return Thing.model_validate(request.get_json(force=True)).model_dump()

    @app.get("/test/conflict")
    def conflict() -> str:
        raise ConflictError("already there")

    @app.get("/test/slash/")
    def slash() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/test/slow")
    def slow() -> dict[str, str]:
        time.sleep(0.5)
        return {"status": "ok"}
{%- if cookiecutter.auth != "none" %}

    # A resource guarded as the example one is, whatever the database.
    guarded = Blueprint("guarded", __name__, url_prefix="/test/guarded")
    guarded.before_request(require(ResourceScopes(read="items:read", write="items:write")))

    @guarded.get("")
    def read_guarded() -> dict[str, str]:
        return {"principal": caller().name}

    @guarded.post("")
    def write_guarded() -> dict[str, str]:
        return {"principal": caller().name}

    app.register_blueprint(guarded)

    # A route without a guard that asks who is calling all the same.
    @app.get("/test/caller")
    def who() -> dict[str, str]:
        return {"principal": caller().name}
{%- endif %}


def _ok() -> None:
    return None


def _fail() -> None:
    raise ConnectionError("down")


def _hang() -> None:
    time.sleep(2)


CHECKS = {"ok": _ok, "fail": _fail, "hang": _hang}


@pytest.fixture
def make_client(capsys: pytest.CaptureFixture[str]) -> Callable[..., Client]:
    """Build a client; `checks` maps readiness check names to "ok", "fail" or "hang", and
    `peer` is the address it connects from, `credentials` the headers it sends by default."""

    def make(
        checks: dict[str, str] | None = None,
        peer: str = "127.0.0.1",
        credentials: dict[str, str] = CREDENTIALS,
        **overrides: Any,
    ) -> Client:
        app = create_app(base_settings(**overrides))
        add_test_routes(app)
        for name, behaviour in (checks or {}).items():
            app.extensions["health_checks"][name] = CHECKS[behaviour]
        flask_client = app.test_client()
        flask_client.environ_base["REMOTE_ADDR"] = peer
        for name, value in credentials.items():
            flask_client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
        return Client(flask_client)

    return make


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The JSON log records written so far (each line must parse on its own)."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    return read

"""Fixtures: the app with a few test-only routes, built from settings a test can override."""

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.app import create_app
{%- if cookiecutter.auth != "none" %}
from {{ cookiecutter.project_slug }}.core.auth import ResourceScopes
from {{ cookiecutter.project_slug }}.core.auth.guard import (
    Caller,
    caller,
    require,
)
{%- endif %}
from {{ cookiecutter.project_slug }}.core.errors import ConflictError

from .early import pytest_collection_finish  # noqa: F401 - a hook: processes started early
{% if cookiecutter.background_jobs %}from .jobs.stub import jobs_broker  # noqa: F401 - a fixture: the actors on a stub broker
{% endif %}from .settings import CREDENTIALS, Thing, base_settings

# Declared once for the whole run, and each client's app gets these very routes: FastAPI
# analyses a route's signature where it is declared, a cost every app would pay again.
TEST_ROUTES = APIRouter()


@TEST_ROUTES.get("/test/boom")
async def boom() -> None:
    raise RuntimeError("boom\nforged line")


@TEST_ROUTES.post("/test/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}


@TEST_ROUTES.get("/test/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@TEST_ROUTES.post("/test/things")
async def things(thing: Thing) -> Thing:
    return thing


@TEST_ROUTES.get("/test/conflict")
async def conflict() -> None:
    raise ConflictError("already there")


@TEST_ROUTES.get("/test/slash/")
async def slash() -> dict[str, str]:
    return {"status": "ok"}


@TEST_ROUTES.get("/test/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(0.5)
    return {"status": "ok"}
{%- if cookiecutter.auth != "none" %}


# A resource guarded as the example one is, whatever the database.
guarded = APIRouter(
    prefix="/test/guarded",
    dependencies=[require(ResourceScopes(read="items:read", write="items:write"))],
)


@guarded.get("")
async def read_guarded(principal: Caller) -> dict[str, str]:
    return {"principal": principal.name}


@guarded.post("")
async def write_guarded(principal: Caller) -> dict[str, str]:
    return {"principal": principal.name}


TEST_ROUTES.include_router(guarded)


# A route without a guard that asks who is calling all the same.
@TEST_ROUTES.get("/test/caller")
async def who(request: Request) -> dict[str, str]:
    return {"principal": (await caller(request)).name}
{%- endif %}


def add_test_routes(app: FastAPI) -> None:
    app.router.routes.extend(TEST_ROUTES.routes)


async def _ok() -> None:
    return None


async def _fail() -> None:
    raise ConnectionError("down")


async def _hang() -> None:
    await asyncio.sleep(30)


CHECKS = {"ok": _ok, "fail": _fail, "hang": _hang}


@pytest.fixture
def make_client(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., TestClient]]:
    """Build a client; `checks` maps readiness check names to "ok", "fail" or "hang", and
    `peer` is the address it connects from, `credentials` the headers it sends by default."""
    with ExitStack() as stack:

        def make(
            checks: dict[str, str] | None = None,
            peer: str = "127.0.0.1",
            credentials: dict[str, str] = CREDENTIALS,
            **overrides: Any,
        ) -> TestClient:
            app = create_app(base_settings(**overrides))
            add_test_routes(app)
            for name, behaviour in (checks or {}).items():
                app.state.health_checks[name] = CHECKS[behaviour]
            # The peer address gunicorn would see behind a local proxy, as in the Flask tests;
            # the headers copied, as TestClient adds its User-Agent to the dict it is given.
            client = TestClient(app, client=(peer, 50000), headers=dict(credentials))
            return stack.enter_context(client)

        yield make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The JSON log records written so far (each line must parse on its own)."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    return read

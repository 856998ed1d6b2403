"""The operational endpoints: status, health, metrics and the route list."""

import time
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request, Response

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import health, metrics
from {{ cookiecutter.project_slug }}.core.security import token_allows

JSON = "application/json"
LIVE = orjson.dumps({"status": "ok"})


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


async def live() -> Response:
    return Response(LIVE, media_type=JSON)


async def _checks(request: Request) -> dict[str, health.CheckResult]:
    settings: Settings = request.app.state.settings
    return await health.run_async(request.app.state.health_checks, settings.health_check_timeout)


async def ready(request: Request) -> Response:
    code, body = health.readiness(await _checks(request))
    return _json(body, code)


def _require_token(request: Request) -> None:
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value()
    if not token_allows(request.headers.get("authorization"), token):
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})


async def detailed(request: Request) -> Response:
    _require_token(request)
    settings: Settings = request.app.state.settings
    code, body = health.readiness(await _checks(request))
    body |= {
        "version": __version__,
        "environment": settings.environment.value,
        "uptime_seconds": round(time.monotonic() - request.app.state.started, 3),
    }
    return _json(body, code)


async def metrics_endpoint(request: Request) -> Response:
    _require_token(request)
    payload, content_type = metrics.render()
    return Response(payload, media_type=content_type)


async def routes_endpoint(request: Request) -> Response:
    # The OpenAPI schema lists every route with its full path, however routers are included.
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    found = [
        {"method": method.upper(), "path": path}
        for path, operations in paths.items()
        for method in operations
    ]
    return _json({"routes": sorted(found, key=lambda r: (r["path"], r["method"]))})


def install(app: FastAPI, settings: Settings) -> None:
    app.state.settings = settings
    app.state.started = time.monotonic()
    metrics.describe(
        SERVICE_NAME, __version__, settings.environment.value, settings.slow_request_ms / 1000
    )
    # Rendered once: this answer never changes, and a handler without parameters skips
    # FastAPI's dependency resolution.
    status_body = orjson.dumps(
        {"name": SERVICE_NAME, "version": __version__, "environment": settings.environment.value}
    )

    async def status() -> Response:
        return Response(status_body, media_type=JSON)

    # Added one by one (not through a router), so the route template is the full path.
    app.add_api_route("/status", status, tags=["operations"])
    app.add_api_route("/health/live", live, tags=["operations"])
    app.add_api_route("/health/ready", ready, tags=["operations"])
    app.add_api_route("/health", detailed, tags=["operations"])
    if settings.metrics_enabled:
        app.add_api_route("/metrics", metrics_endpoint, tags=["operations"])
    if not settings.is_production:
        app.add_api_route("/api/routes", routes_endpoint, tags=["operations"])

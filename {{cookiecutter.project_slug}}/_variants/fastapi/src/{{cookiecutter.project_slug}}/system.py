"""The operational endpoints: status, health, metrics and the route list."""

import time
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__, health, metrics
from {{ cookiecutter.project_slug }}.config import Settings

JSON = "application/json"
LIVE = orjson.dumps({"status": "ok"})

router = APIRouter(include_in_schema=False)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


@router.get("/status")
async def status(request: Request) -> Response:
    # Rendered once at start-up: this answer never changes.
    body: bytes = request.app.state.status_body
    return Response(body, media_type=JSON)


@router.get("/health/live")
async def live() -> Response:
    return Response(LIVE, media_type=JSON)


async def _checks(request: Request) -> dict[str, health.CheckResult]:
    settings: Settings = request.app.state.settings
    return await health.run_async(request.app.state.health_checks, settings.health_check_timeout)


@router.get("/health/ready")
async def ready(request: Request) -> Response:
    code, body = health.readiness(await _checks(request))
    return _json(body, code)


@router.get("/health")
async def detailed(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    code, body = health.readiness(await _checks(request))
    body |= {
        "version": __version__,
        "environment": settings.environment.value,
        "uptime_seconds": round(time.monotonic() - request.app.state.started, 3),
    }
    return _json(body, code)


async def metrics_endpoint() -> Response:
    payload, content_type = metrics.render()
    return Response(payload, media_type=content_type)


async def routes_endpoint(request: Request) -> Response:
    found = [
        {"method": method, "path": route.path}
        for route in request.app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]
    return _json({"routes": sorted(found, key=lambda r: (r["path"], r["method"]))})


def install(app: FastAPI, settings: Settings) -> None:
    app.state.settings = settings
    app.state.started = time.monotonic()
    app.state.status_body = orjson.dumps(
        {"name": SERVICE_NAME, "version": __version__, "environment": settings.environment.value}
    )
    app.include_router(router)
    if settings.metrics_enabled:
        app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    if not settings.is_production:
        app.add_api_route("/api/routes", routes_endpoint, include_in_schema=False)

"""The operational endpoints: status, health, metrics and the route list."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import health, metrics
from {{ cookiecutter.project_slug }}.core.middleware import (
    route_template,
)
from {{ cookiecutter.project_slug }}.core.security import token_allows

JSON = "application/json"
LIVE = orjson.dumps({"status": "ok"})
# Generous for a handful of checks, bounded so hung checks cannot grow it without end.
CHECK_THREADS = 8

# Named as FastAPI tags these routes in the API document.
blueprint = Blueprint("operations", __name__)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=JSON)


@blueprint.get("/status")
def status() -> Response:
    # Rendered once at start-up: this answer never changes.
    return Response(current_app.extensions["status_body"], mimetype=JSON)


@blueprint.get("/health/live")
def live() -> Response:
    return Response(LIVE, mimetype=JSON)


def _checks() -> dict[str, health.CheckResult]:
    settings: Settings = current_app.extensions["settings"]
    return health.run_in_threads(
        current_app.extensions["health_checks"],
        settings.health_check_timeout,
        current_app.extensions["health_executor"],
    )


@blueprint.get("/health/ready")
def ready() -> Response:
    code, body = health.readiness(_checks())
    return _json(body, code)


def _require_token() -> None:
    settings: Settings = current_app.extensions["settings"]
    token = settings.metrics_token.get_secret_value()
    if not token_allows(request.headers.get("Authorization"), token):
        raise Unauthorized(www_authenticate=WWWAuthenticate("bearer"))


@blueprint.get("/health")
def detailed() -> Response:
    _require_token()
    settings: Settings = current_app.extensions["settings"]
    code, body = health.readiness(_checks())
    body |= {
        "version": __version__,
        "environment": settings.environment.value,
        "uptime_seconds": round(time.monotonic() - current_app.extensions["started"], 3),
    }
    return _json(body, code)


def metrics_endpoint() -> Response:
    _require_token()
    payload, content_type = metrics.render()
    return Response(payload, content_type=content_type)


def routes_endpoint() -> Response:
    found = [
        {"method": method, "path": route_template(rule.rule)}
        for rule in current_app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods or ())
        if method not in {"HEAD", "OPTIONS"}
    ]
    return _json({"routes": sorted(found, key=lambda r: (r["path"], r["method"]))})


def install(app: Flask, settings: Settings) -> None:
    executor = ThreadPoolExecutor(CHECK_THREADS, thread_name_prefix="health")
    app.extensions["closers"].append(lambda: executor.shutdown(wait=False, cancel_futures=True))
    metrics.describe(
        SERVICE_NAME, __version__, settings.environment.value, settings.slow_request_ms / 1000
    )
    app.extensions.update(
        settings=settings,
        started=time.monotonic(),
        health_executor=executor,
        status_body=orjson.dumps(
            {
                "name": SERVICE_NAME,
                "version": __version__,
                "environment": settings.environment.value,
            }
        ),
    )
    app.register_blueprint(blueprint)
    if settings.metrics_enabled:
        app.add_url_rule("/metrics", "metrics", metrics_endpoint)
    if not settings.is_production:
        app.add_url_rule("/api/routes", "routes", routes_endpoint)

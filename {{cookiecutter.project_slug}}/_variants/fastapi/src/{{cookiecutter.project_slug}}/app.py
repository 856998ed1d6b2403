"""FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core import (
    cors,
    handlers,
    openapi,
{%- if cookiecutter.opentelemetry %}
    request_spans,
{%- endif %}
{%- if cookiecutter.sentry %}
    sentry,
    sentry_requests,
{%- endif %}
    system,
{%- if cookiecutter.opentelemetry %}
    tracing,
{%- endif %}
)
{%- if cookiecutter.auth != "none" %}
from {{ cookiecutter.project_slug }}.core.auth.{{ "tokens" if cookiecutter.auth == "jwt" else "keys" }} import (
    credentials,
)
{%- endif %}
from {{ cookiecutter.project_slug }}.core.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.core.logs import (
    configure_logging,
)
from {{ cookiecutter.project_slug }}.core.middleware import (
    ServiceMiddleware,
)
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items import routes as items
{%- endif %}
{%- if cookiecutter.use_redis %}
from {{ cookiecutter.project_slug }}.redis_client.connection import (
    create_cache,
    create_redis,
    rate_limit_storage,
)
{%- endif %}

# The team's resources, each a folder beside `core/` (README.md, "Adding a resource"):
# every router here is mounted by create_app.
RESOURCES: list[APIRouter] = [{% if cookiecutter.database != "none" %}items.router{% endif %}]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Worker shutdown: close pools and clients, newest first.
    for close in reversed(app.state.closers):
        await close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.json_logs)
    docs = not settings.is_production
    app = {{ "request_spans.TracedApp" if cookiecutter.opentelemetry else "FastAPI" }}(
        title=SERVICE_NAME,
        version=__version__,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
        # Starlette answers a missing or extra slash with a redirect built from the request's
        # Host, which the client chooses: a path is answered as written (docs/contract.md).
        redirect_slashes=False,
{%- if cookiecutter.opentelemetry %}
        telemetry=request_spans.telemetry(),
{%- endif %}
    )
    # Dependencies register a readiness check and a closer here (see docs/contract.md).
    app.state.health_checks = {}
    app.state.closers = []
{%- if cookiecutter.opentelemetry %}
    if tracing.enabled():
        tracing.start(settings)
        # Closed last: the spans of the other closers' work are exported too.
        app.state.closers.append(tracing.flush_async)
{%- endif %}
{%- if cookiecutter.sentry %}
    sentry.start(settings)
    # Closed last{{ " but one" if cookiecutter.opentelemetry else "" }}: an error while closing the others is still sent.
    app.state.closers.append(sentry_requests.flush_async)
{%- endif %}
    handlers.install(app)
    # Operational routes first: probes and scrapes are matched before the resource routes.
    system.install(app, settings)
    limiter = RateLimiter(settings.rate_limit) if settings.rate_limit else None
{%- if cookiecutter.use_redis %}
    # No REDIS_URL (the tests without a server): memory rate limits, the cache always misses.
    redis = create_redis(settings) if settings.redis_url.get_secret_value() else None
    app.state.cache = create_cache(redis, settings)
    if redis is not None:
        app.state.health_checks["redis"] = redis.ping
        app.state.closers.append(redis.aclose)
        if settings.rate_limit:
            limiter = RateLimiter(settings.rate_limit, rate_limit_storage(redis, settings))
{%- endif %}

{%- if cookiecutter.database != "none" %}
    database = Database(settings)
    app.state.database = database
    app.state.health_checks["database"] = database.ping
    app.state.closers.append(database.dispose)
{%- if cookiecutter.opentelemetry %}
    if tracing.enabled():
        tracing.trace_engine(database.engine.sync_engine)
{%- endif %}
{%- endif %}
    for router in RESOURCES:
        app.include_router(router)
    openapi.install(app)

    if settings.cors_origins:
        app.add_middleware(cors.CORS, origins=settings.cors_origins)
    # Added last, so it is the outermost layer: its headers and log cover every answer.
    app.add_middleware(
        ServiceMiddleware,
        settings=settings,
        limiter=limiter,
{%- if cookiecutter.auth != "none" %}
        credentials=credentials(settings),
{%- endif %}
{%- if cookiecutter.opentelemetry %}
        trace_ids=tracing.current_ids if tracing.enabled() else None,
{%- endif %}
    )
    return app

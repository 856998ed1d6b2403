"""Flask application factory."""

import atexit

from flask import Blueprint, Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core import (
    cors,
    handlers,
    middleware,
    openapi,
{%- if cookiecutter.opentelemetry %}
    request_spans,
{%- endif %}
{%- if cookiecutter.sentry %}
    sentry,
{%- endif %}
    system,
{%- if cookiecutter.opentelemetry and cookiecutter.database != "none" %}
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
# every blueprint here is mounted by create_app.
RESOURCES: list[Blueprint] = [{% if cookiecutter.database != "none" %}items.blueprint{% endif %}]


class LazyCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, unpacked only for requests that carry the cookie.

    An API's clients send none, and Flask builds the signer for every request that might:
    about a twentieth of a small request. Sessions still work where a view uses them.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if (
            "HTTP_COOKIE" not in request.environ
            or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        return super().open_session(app, request)


def close_resources(app: Flask) -> None:
    """Close pools and clients, newest first, each once (gunicorn's worker_exit, atexit)."""
    closers = app.extensions["closers"]
    while closers:
        closers.pop()()


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.json_logs)
{%- if cookiecutter.sentry %}
    sentry.start(settings)
{%- endif %}
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key.get_secret_value()
    app.session_interface = LazyCookieSessions()
    # Dependencies register a readiness check and a closer here (see docs/contract.md).
    app.extensions["health_checks"] = {}
    app.extensions["closers"] = []
    limiter = RateLimiter(settings.rate_limit) if settings.rate_limit else None
{%- if cookiecutter.use_redis %}
    # No REDIS_URL (the tests without a server): memory rate limits, the cache always misses.
    redis = create_redis(settings) if settings.redis_url.get_secret_value() else None
    app.extensions["cache"] = create_cache(redis, settings)
    if redis is not None:
        app.extensions["health_checks"]["redis"] = redis.ping
        app.extensions["closers"].append(redis.close)
        if settings.rate_limit:
            limiter = RateLimiter(settings.rate_limit, rate_limit_storage(redis, settings))
{%- endif %}

{%- if cookiecutter.database != "none" %}
    database = Database(settings)
    app.extensions["database"] = database
    app.extensions["health_checks"]["database"] = database.ping
    app.extensions["closers"].append(database.dispose)
{%- if cookiecutter.opentelemetry %}
    if tracing.enabled():
        tracing.trace_engine(database.engine)
{%- endif %}
{%- endif %}
    for blueprint in RESOURCES:
        app.register_blueprint(blueprint)

    middleware.install(
        app,
        settings,
        limiter,
{%- if cookiecutter.auth != "none" %}
        credentials=credentials(settings),
{%- endif %}
{%- if cookiecutter.opentelemetry %}
        trace_ids=request_spans.install(app, settings),
{%- endif %}
    )
    handlers.install(app, settings.is_production)
    system.install(app, settings)
    if not settings.is_production:
        openapi.install(app)
    if settings.cors_origins:
        cors.install(app, settings.cors_origins)
    atexit.register(close_resources, app)
    return app

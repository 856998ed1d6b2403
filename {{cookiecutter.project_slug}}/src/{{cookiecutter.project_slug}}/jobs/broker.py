"""The Dramatiq broker, built from the settings: Redis at REDIS_URL, under the key prefix.

Importing this module sets the broker every actor is declared on, so the actors' modules
import it first. Messages are acknowledged only after their job has run; a worker that dies
holding some stops sending heartbeats, and after JOBS_HEARTBEAT_TIMEOUT another worker's
maintenance puts them back on their queue.
"""

import importlib

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
{%- if cookiecutter.framework == "fastapi" %}
    AsyncIO,
{%- endif %}
    Callbacks,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from redis import ConnectionPool, Redis

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.jobs import ACTOR_MODULES
from {{ cookiecutter.project_slug }}.jobs.middleware import (
    JobContext,
    Liveness,
)
{%- if cookiecutter.opentelemetry %}
from {{ cookiecutter.project_slug }}.jobs.tracing import JobTracing
{%- endif %}
from {{ cookiecutter.project_slug }}.redis_client.options import (
    pool_options,
)


def import_actors() -> None:
    for module in ACTOR_MODULES:
        importlib.import_module(module)


def namespace(settings: Settings) -> str:
    """The prefix of the broker's keys: under the service's own, like every key it writes."""
    return f"{settings.redis_key_prefix}jobs"


def middleware(settings: Settings) -> list[Middleware]:
    """Dramatiq's own middleware with the settings' limits, and the project's."""
    return [
        AgeLimit(),
        TimeLimit(time_limit=int(settings.jobs_time_limit * 1000)),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # JobContext comes before Retries: hooks after a job run in reverse order, so it
        # sees whether Retries has given the message up (dead-lettered) or sent it again.
{%- if cookiecutter.opentelemetry %}
        # Before JobContext: hooks after a job run in reverse order, so the job's span is
        # still current when JobContext writes its outcome line.
        JobTracing(),
{%- endif %}
        JobContext(),
        Retries(
            max_retries=settings.jobs_max_retries,
            min_backoff=int(settings.jobs_min_backoff * 1000),
            max_backoff=int(settings.jobs_max_backoff * 1000),
        ),
{%- if cookiecutter.framework == "fastapi" %}
        AsyncIO(),
{%- endif %}
        Liveness(settings.liveness_path, settings.jobs_liveness_max_age),
    ]


def create_client(settings: Settings) -> Redis:
    url = settings.redis_url.get_secret_value()
    if not url:
        raise ValueError("REDIS_URL must be set: background jobs are queued in Redis")
    pool = ConnectionPool.from_url(url, **pool_options(settings))
    return Redis(connection_pool=pool)


def create_broker(settings: Settings) -> RedisBroker:
    return RedisBroker(  # type: ignore[no-untyped-call]
        client=create_client(settings),
        middleware=middleware(settings),
        namespace=namespace(settings),
        heartbeat_timeout=int(settings.jobs_heartbeat_timeout * 1000),
        maintenance_chance=settings.jobs_maintenance_chance,
        dead_message_ttl=int(settings.jobs_dead_letter_ttl * 1000),
    )


broker = create_broker(get_settings())
dramatiq.set_broker(broker)

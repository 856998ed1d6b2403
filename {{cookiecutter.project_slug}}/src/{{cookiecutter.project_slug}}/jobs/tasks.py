"""The example job of a project without a database: record, once, that some work is done.

    from {{ cookiecutter.project_slug }}.jobs.tasks import record_done

    record_done.send("nightly-report-2026-01-31")

The job sets a Redis key named after the work, only if it is not set yet: a redelivered or
requeued message finds it and changes nothing. Replace it with your own actors here.
"""

from functools import lru_cache

import dramatiq
import structlog
from redis import Redis

from {{ cookiecutter.project_slug }}.config import (
    DEFAULT_QUEUE,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core.logs import timestamp
from {{ cookiecutter.project_slug }}.jobs.broker import (
    broker,
    create_client,
)

logger = structlog.get_logger("jobs.tasks")
# How long the record of a piece of work done is kept.
DONE_TTL_SECONDS = 7 * 86400


@lru_cache
def client() -> Redis:
    return create_client(get_settings())


def done_key(work: str) -> str:
    return f"{get_settings().redis_key_prefix}jobs:done:{work}"


def mark_done(redis: Redis, work: str) -> bool:
    """Record the work as done unless it is already; whether this call recorded it."""
    return bool(redis.set(done_key(work), timestamp(), nx=True, ex=DONE_TTL_SECONDS))


@dramatiq.actor(broker=broker, queue_name=DEFAULT_QUEUE)
def record_done(work: str) -> None:
    applied = mark_done(client(), work)
    logger.info("work_recorded" if applied else "work_already_recorded", work=work)

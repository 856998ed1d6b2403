"""The Redis connection pool's options and key names, the same for the sync and async client."""

from typing import Any

from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from {{ cookiecutter.project_slug }}.config import Settings

# Enough for every request a worker serves at once, with a few spare for the readiness checks.
MAX_CONNECTIONS = 50


def pool_options(settings: Settings) -> dict[str, Any]:
    return {
        "max_connections": MAX_CONNECTIONS,
        "socket_connect_timeout": settings.redis_timeout,
        "socket_timeout": settings.redis_timeout,
        # One quick retry covers a dropped idle connection; more would only hold requests up.
        "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
        "health_check_interval": 30,
    }


def cache_prefix(settings: Settings) -> str:
    return f"{settings.redis_key_prefix}cache:"


def rate_limit_prefix(settings: Settings) -> str:
    return f"{settings.redis_key_prefix}ratelimit"

"""The one Redis client of a worker, shared by the rate limiter, readiness and the cache."""

from limits.storage import RedisStorage
from redis import ConnectionPool, Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from {{ cookiecutter.project_slug }}.cache import Cache
from {{ cookiecutter.project_slug }}.config import Settings

# One connection per gunicorn thread is enough; a few spare for the readiness checks.
MAX_CONNECTIONS = 50


def create_redis(settings: Settings) -> Redis:
    pool = ConnectionPool.from_url(
        settings.redis_url,
        max_connections=MAX_CONNECTIONS,
        socket_connect_timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
        # One quick retry covers a dropped idle connection; more would only hold requests up.
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def create_cache(client: Redis | None, settings: Settings) -> Cache:
    return Cache(client, f"{settings.redis_key_prefix}cache:")


def rate_limit_storage(client: Redis, settings: Settings) -> RedisStorage:
    """Rate-limit counters in the same pool, under the project's key prefix."""
    return RedisStorage(
        settings.redis_url,
        connection_pool=client.connection_pool,
        key_prefix=f"{settings.redis_key_prefix}ratelimit",
        wrap_exceptions=True,
    )

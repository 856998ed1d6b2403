"""The one Redis client of a worker, shared by the rate limiter, readiness and the cache."""

from limits.storage import RedisStorage
from redis import ConnectionPool, Redis

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.redis_client import metrics
from {{ cookiecutter.project_slug }}.redis_client.cache import Cache
from {{ cookiecutter.project_slug }}.redis_client.options import (
    cache_prefix,
    pool_options,
    rate_limit_prefix,
)


def create_redis(settings: Settings) -> Redis:
    pool = ConnectionPool.from_url(settings.redis_url.get_secret_value(), **pool_options(settings))
    metrics.watch(pool)
    return Redis(connection_pool=pool)


def create_cache(client: Redis | None, settings: Settings) -> Cache:
    return Cache(client, cache_prefix(settings))


def rate_limit_storage(client: Redis, settings: Settings) -> RedisStorage:
    """Rate-limit counters in the same pool, under the project's key prefix."""
    return RedisStorage(
        settings.redis_url.get_secret_value(),
        connection_pool=client.connection_pool,
        key_prefix=rate_limit_prefix(settings),
        wrap_exceptions=True,
    )

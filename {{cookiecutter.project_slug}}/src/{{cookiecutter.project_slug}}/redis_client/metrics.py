"""The Redis connection pool's gauges, sampled at each metrics flush.

Each worker has a pool of its own, so its gauges keep the worker's pid (multiprocess mode
"liveall"). redis-py (5 to 8) has no public count of a pool's connections: these read the
two collections every pool of it keeps, the same in its sync and asyncio clients.
"""

from typing import Any

from prometheus_client import Gauge

from {{ cookiecutter.project_slug }}.core import metrics

IN_USE = Gauge(
    "redis_pool_in_use_connections",
    "Redis connections in use now.",
    multiprocess_mode="liveall",
)
IDLE = Gauge(
    "redis_pool_idle_connections",
    "Redis connections open and free.",
    multiprocess_mode="liveall",
)
LIMIT = Gauge(
    "redis_pool_max_connections",
    "Redis connections the pool may open at most.",
    multiprocess_mode="liveall",
)


def watch(pool: Any) -> None:
    """Sample this pool's gauges at every flush (a redis.ConnectionPool, sync or asyncio)."""

    def sample() -> None:
        IN_USE.set(len(pool._in_use_connections))
        IDLE.set(len(pool._available_connections))
        LIMIT.set(pool.max_connections)

    metrics.sample("redis", sample)

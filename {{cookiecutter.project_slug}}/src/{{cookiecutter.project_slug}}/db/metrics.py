"""The connection pool's gauges, sampled at each metrics flush, and its checkout timeouts.

Each worker has a pool of its own, so its gauges keep the worker's pid (multiprocess mode
"liveall"): one worker whose pool is exhausted must show, not vanish in a sum over workers.
"""

from prometheus_client import Counter, Gauge
from sqlalchemy import exc
from sqlalchemy.pool import Pool, QueuePool

from {{ cookiecutter.project_slug }}.core import metrics

SIZE = Gauge(
    "db_pool_size",
    "Connections the pool keeps open (DB_POOL_SIZE).",
    multiprocess_mode="liveall",
)
LIMIT = Gauge(
    "db_pool_max_connections",
    "Connections the pool may hold at once (DB_POOL_SIZE + DB_MAX_OVERFLOW).",
    multiprocess_mode="liveall",
)
CHECKED_OUT = Gauge(
    "db_pool_checked_out_connections",
    "Connections in use now.",
    multiprocess_mode="liveall",
)
OVERFLOW = Gauge(
    "db_pool_overflow_connections",
    "Connections open now beyond the pool size.",
    multiprocess_mode="liveall",
)
TIMEOUTS = Counter(
    "db_pool_timeouts",
    "Requests that waited DB_POOL_TIMEOUT for a connection and got none.",
)


def watch(pool: Pool) -> None:
    """Sample this pool's gauges at every flush (SQLite in memory has no pool to size)."""
    if not isinstance(pool, QueuePool):
        return

    def sample() -> None:
        size = pool.size()
        SIZE.set(size)
        LIMIT.set(size + pool._max_overflow)  # not public; set from DB_MAX_OVERFLOW
        CHECKED_OUT.set(pool.checkedout())
        # Negative while the pool has not opened all of its connections yet.
        OVERFLOW.set(max(0, pool.overflow()))

    metrics.sample("database", sample)


def count_failure(error: BaseException) -> None:
    """Count a checkout that timed out (the session turns it into a 503)."""
    if isinstance(error, exc.TimeoutError):
        TIMEOUTS.inc()

import os

import pytest
from prometheus_client import REGISTRY
from redis import ConnectionPool

from {{ cookiecutter.project_slug }}.core import metrics
from {{ cookiecutter.project_slug }}.redis_client import (
    metrics as redis_metrics,
)

REDIS_URL = os.environ.get("REDIS_URL", "")


def _values():
    metrics.flush()
    return [
        REGISTRY.get_sample_value(f"redis_pool_{name}_connections")
        for name in ("in_use", "idle", "max")
    ]


def test_a_pool_before_any_connection():
    redis_metrics.watch(ConnectionPool.from_url("redis://127.0.0.1:1/0", max_connections=7))
    assert _values() == [0, 0, 7]


@pytest.mark.skipif(not REDIS_URL, reason="set REDIS_URL to test against Redis")
def test_pool_gauges_follow_its_connections():
    pool = ConnectionPool.from_url(REDIS_URL, max_connections=7)
    redis_metrics.watch(pool)
    connection = pool.get_connection()
    assert _values() == [1, 0, 7]
    pool.release(connection)
    assert _values() == [0, 1, 7]
    pool.disconnect()

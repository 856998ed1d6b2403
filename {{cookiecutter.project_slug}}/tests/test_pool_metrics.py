import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, exc

from {{ cookiecutter.project_slug }}.core import metrics
from {{ cookiecutter.project_slug }}.db import (
    metrics as db_metrics,
)


def _value(name):
    metrics.flush()
    return REGISTRY.get_sample_value(name)


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(
        f"sqlite:///{tmp_path / 'pool.db'}", pool_size=2, max_overflow=1, pool_timeout=0.05
    )
    db_metrics.watch(engine.pool)
    yield engine
    engine.dispose()


def test_pool_gauges_follow_its_connections(engine):
    assert (_value("db_pool_size"), _value("db_pool_max_connections")) == (2, 3)
    assert _value("db_pool_checked_out_connections") == 0
    held = [engine.connect() for _ in range(3)]
    assert _value("db_pool_checked_out_connections") == 3
    assert _value("db_pool_overflow_connections") == 1
    for connection in held:
        connection.close()
    assert _value("db_pool_checked_out_connections") == 0
    assert _value("db_pool_overflow_connections") == 0


def test_checkout_timeouts_are_counted(engine):
    before = _value("db_pool_timeouts_total")
    held = [engine.connect() for _ in range(3)]
    with pytest.raises(exc.TimeoutError) as raised:
        engine.connect()
    db_metrics.count_failure(raised.value)
    db_metrics.count_failure(exc.OperationalError("SELECT 1", {}, Exception("down")))
    for connection in held:
        connection.close()
    assert _value("db_pool_timeouts_total") == before + 1


def test_a_pool_without_a_size_is_not_sampled(monkeypatch):
    monkeypatch.setattr(metrics, "_samplers", {})
    db_metrics.watch(create_engine("sqlite://").pool)  # SQLite in memory
    assert metrics._samplers == {}

"""Every test runs the actors on Dramatiq's stub broker (with the project's middleware), so
none reaches Redis's queues unless it asks for a real broker."""

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from {{ cookiecutter.project_slug }}.config import DEFAULT_QUEUE
from {{ cookiecutter.project_slug }}.core.logs import (
    configure_logging,
)
from {{ cookiecutter.project_slug }}.jobs.broker import (
    broker,
    import_actors,
    middleware,
)
from tests.settings import base_settings

# Small backoffs, so retries happen within a test: 10 ms doubling up to 40 ms, 3 retries.
STUB_SETTINGS = {"jobs_min_backoff": 0.01, "jobs_max_backoff": 0.04, "jobs_max_retries": 3}


@pytest.fixture(autouse=True)
def jobs_broker(tmp_path: Path) -> Iterator[StubBroker]:
    settings = base_settings(**STUB_SETTINGS, jobs_liveness_file=str(tmp_path / "alive"))
    configure_logging("INFO", json_logs=True)
    stub = StubBroker(middleware=middleware(settings))
    import_actors()
    actors = [broker.get_actor(name) for name in broker.get_declared_actors()]
    for actor in actors:
        actor.broker = stub
        stub.declare_actor(actor)
    dramatiq.set_broker(stub)
    yield stub
    for actor in actors:
        actor.broker = broker
    dramatiq.set_broker(broker)


def drain(broker: StubBroker) -> None:
    """Run the jobs queued so far (and their retries) in a worker, then stop it."""
    worker = Worker(broker, worker_timeout=20, worker_threads=2)
    worker.start()
    try:
        broker.join(DEFAULT_QUEUE, fail_fast=False)
        worker.join()
    finally:
        worker.stop()

"""A real worker process (`python -m <package>.jobs`) against the Redis in REDIS_URL, and the
dead-letter command on the broker's own keys. Skipped without a server, as the other Redis
tests are."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from {{ cookiecutter.project_slug }}.config import (
    DEFAULT_QUEUE,
    Settings,
)
from {{ cookiecutter.project_slug }}.jobs import dead_letters
from {{ cookiecutter.project_slug }}.jobs.broker import create_broker
from tests.settings import base_settings

REDIS_URL = os.environ.get("REDIS_URL", "")
PACKAGE = "{{ cookiecutter.project_slug }}"
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set REDIS_URL to test against Redis")


@pytest.fixture
def settings() -> Settings:
    return base_settings(redis_url=REDIS_URL, redis_key_prefix=f"test-{uuid.uuid4().hex}:")


@pytest.fixture
def real_broker(settings) -> Iterator[RedisBroker]:
    broker = create_broker(settings)
    broker.declare_queue(DEFAULT_QUEUE)
    yield broker
    broker.flush_all()
    broker.close()


def message(actor: str, *args: object) -> Message[None]:
    return Message(queue_name=DEFAULT_QUEUE, actor_name=actor, args=args, kwargs={}, options={})


def dead_letter(broker: RedisBroker, actor: str) -> Message[None]:
    """A message put through the broker's own fetch and nack, as a worker giving up does."""
    sent = broker.enqueue(message(actor, 1))
    broker.do_fetch(DEFAULT_QUEUE, 1)
    broker.do_nack(DEFAULT_QUEUE, sent.options["redis_message_id"])
    return sent


def run_main(monkeypatch, settings, capsys, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(dead_letters, "get_settings", lambda: settings)
    code = dead_letters.main(list(argv))
    return code, capsys.readouterr().out


def test_dead_letters_are_listed_requeued_and_deleted(real_broker, settings, monkeypatch, capsys):
    first = dead_letter(real_broker, "first")
    second = dead_letter(real_broker, "second")
    assert real_broker.do_qsize(DEFAULT_QUEUE) == 0

    code, out = run_main(monkeypatch, settings, capsys, "list")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    # Oldest first; two dead in the same millisecond may come either way.
    assert {entry["message_id"] for entry in listed} == {first.message_id, second.message_id}
    assert {entry["actor"] for entry in listed} == {"first", "second"}

    code, out = run_main(monkeypatch, settings, capsys, "requeue", first.message_id)
    assert (code, out) == (0, f"requeued {first.message_id}\n")
    assert real_broker.do_qsize(DEFAULT_QUEUE) == 1

    code, out = run_main(monkeypatch, settings, capsys, "delete", "--all")
    assert (code, out) == (0, f"deleted {second.message_id}\n")
    assert run_main(monkeypatch, settings, capsys, "list") == (0, "")
    assert run_main(monkeypatch, settings, capsys, "delete", "missing")[0] == 1


def test_a_real_worker_runs_jobs_and_stops_on_sigterm(real_broker, settings, tmp_path):
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "JOBS_PROCESSES": "1",
        "JOBS_THREADS": "2",
        "JOBS_METRICS_PORT": "0",
        "JOBS_LIVENESS_FILE": str(tmp_path / "alive"),
        "LOG_FORMAT": "json",
    }
{%- if cookiecutter.database != "none" %}
    sent = real_broker.enqueue(message("process_item", 2**31 - 1))  # no such item: a no-op
    done_event = "item_already_processed"
{%- else %}
    sent = real_broker.enqueue(message("record_done", f"work-{uuid.uuid4().hex}"))
    done_event = "work_recorded"
{%- endif %}
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, this package
        [sys.executable, "-m", f"{PACKAGE}.jobs"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while real_broker.do_qsize(DEFAULT_QUEUE) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert real_broker.do_qsize(DEFAULT_QUEUE) == 0
        time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    done = [r for r in records if r.get("message_id") == sent.message_id]
    assert [r["event"] for r in done] == [done_event, "job_succeeded"]

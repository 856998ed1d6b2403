"""What every job gets, on the stub broker: retries with bounded, growing delays, dead
letters after the last retry, the request_id of the request that sent it, one log line per
outcome, metrics per actor; and the worker's command line, liveness and metrics server."""

import json
import os
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from prometheus_client import REGISTRY

from {{ cookiecutter.project_slug }}.config import (
    DEFAULT_QUEUE,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.jobs import (
    ACTOR_MODULES,
    health,
    metrics,
)
from {{ cookiecutter.project_slug }}.jobs.__main__ import (
    arguments,
    metrics_directory,
)
from {{ cookiecutter.project_slug }}.jobs.dead_letters import (
    describe,
    parser,
)
from tests.settings import METRICS_TOKEN, base_settings

from .stub import STUB_SETTINGS, drain


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def count(name: str, actor: str) -> float:
    return REGISTRY.get_sample_value(name, {"actor": actor}) or 0.0


def test_a_failing_job_is_retried_with_growing_bounded_delays_then_dead_lettered(
    jobs_broker, capsys
):
    attempts = []

    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE)
    def always_fails() -> None:
        attempts.append(request_id.current())
        raise RuntimeError("the cause")

    before = {name: count(name, "always_fails") for name in ("jobs_failed_total",)}
    capsys.readouterr()
    token = request_id.bind("req-42")
    try:
        always_fails.send()
    finally:
        request_id.unbind(token)
    drain(jobs_broker)

    retries = int(STUB_SETTINGS["jobs_max_retries"])
    assert len(attempts) == retries + 1
    # The request's id travels in the message: every attempt runs under it.
    assert set(attempts) == {"req-42"}
    (dead,) = jobs_broker.dead_letters
    assert dead.actor_name == "always_fails"
    outcomes = [line for line in lines(capsys) if line.get("actor") == "always_fails"]
    failed = [line for line in outcomes if line["event"] == "job_failed"]
    dead_lines = [line for line in outcomes if line["event"] == "job_dead_lettered"]
    assert [line["attempt"] for line in failed] == list(range(1, retries + 1))
    assert [line["attempt"] for line in dead_lines] == [retries + 1]
    assert {line["request_id"] for line in failed + dead_lines} == {"req-42"}
    assert {line["message_id"] for line in failed + dead_lines} == {dead.message_id}
    # Dramatiq's backoff: 2^n times the minimum, halved at most by jitter, capped at the max.
    low, high = STUB_SETTINGS["jobs_min_backoff"] * 1000, STUB_SETTINGS["jobs_max_backoff"] * 1000
    delays = [line["retry_in_ms"] for line in failed]
    for n, delay in enumerate(delays):
        bound = min(low * 2 ** (n + 1), high)
        assert bound / 2 <= delay <= bound, (n, delays)
    assert max(delays) <= high
    assert all(line["duration_ms"] >= 0 for line in failed + dead_lines)
    assert count("jobs_enqueued_total", "always_fails") == 1
    assert count("jobs_retried_total", "always_fails") == retries
    assert count("jobs_failed_total", "always_fails") - before["jobs_failed_total"] == retries + 1
    assert count("jobs_dead_lettered_total", "always_fails") == 1
    assert count("job_duration_seconds_count", "always_fails") == retries + 1


def test_a_job_that_succeeds_on_a_retry_is_not_dead_lettered(jobs_broker, capsys):
    tries = []

    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE)
    def flaky() -> None:
        tries.append(1)
        if len(tries) < 2:
            raise ConnectionError("not yet")

    capsys.readouterr()
    flaky.send()
    drain(jobs_broker)

    assert len(tries) == 2
    assert jobs_broker.dead_letters == []
    events = [
        line["event"]
        for line in lines(capsys)
        if line.get("actor") == "flaky" and line["event"].startswith("job_")
    ]
    assert events == ["job_failed", "job_succeeded"]
    assert count("jobs_succeeded_total", "flaky") == 1


def test_a_job_sent_outside_a_request_has_no_request_id(jobs_broker, capsys):
    @dramatiq.actor(broker=jobs_broker, queue_name=DEFAULT_QUEUE)
    def quiet() -> None:
        dramatiq.get_logger("tests").warning("inside the job")

    capsys.readouterr()
    message = quiet.send()
    drain(jobs_broker)

    assert "request_id" not in message.options
    (inside,) = [line for line in lines(capsys) if line.get("event") == "inside the job"]
    # A line the job writes itself, through the standard library, carries the job's fields.
    assert (inside["actor"], inside["attempt"]) == ("quiet", 1)
    assert inside["message_id"] == message.message_id
    assert "request_id" not in inside


def test_the_worker_command_line_comes_from_the_settings():
    settings = base_settings(
        jobs_queues="default,mail", jobs_processes=3, jobs_threads=5, jobs_shutdown_grace=12.5
    )
    args = arguments(settings, ["--verbose"])
    assert args[0].endswith(".jobs.broker:broker")
    assert args[1 : 1 + len(ACTOR_MODULES)] == list(ACTOR_MODULES)
    joined = " ".join(args)
    assert "--processes 3 --threads 5 --queues default mail" in joined
    assert "--worker-shutdown-timeout 12500" in joined
    assert args[-1] == "--verbose"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jobs_queues": ""}, "JOBS_QUEUES must name"),
        ({"jobs_queues": "default,bad.DQ"}, "not a queue name"),
        ({"jobs_min_backoff": 10, "jobs_max_backoff": 1}, "JOBS_MIN_BACKOFF"),
    ],
)
def test_job_settings_are_refused_with_a_message(changes, message):
    with pytest.raises(ValueError, match=message):
        base_settings(**changes)


def test_the_metrics_directory_is_emptied_or_made(tmp_path, monkeypatch):
    stale = tmp_path / "metrics" / "counter_1.db"
    stale.parent.mkdir()
    stale.write_text("old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(stale.parent))
    assert metrics_directory() == str(stale.parent)
    assert list(stale.parent.iterdir()) == []
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    made = metrics_directory()
    assert os.path.isdir(made) and os.environ["PROMETHEUS_MULTIPROC_DIR"] == made
    os.rmdir(made)


def test_liveness_follows_the_worker_threads(jobs_broker, tmp_path, capsys):
    settings = base_settings(jobs_liveness_file=str(tmp_path / "alive"), jobs_liveness_max_age=3)
    assert "does not exist" in (health.problem(settings) or "")
    worker = Worker(jobs_broker, worker_timeout=20)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while health.problem(settings) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert health.problem(settings) is None
    finally:
        worker.stop()
    later = time.time() + 10
    assert "s old" in (health.problem(settings, now=later) or "")


def test_the_health_command_exits_non_zero_without_a_worker(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOBS_LIVENESS_FILE", str(tmp_path / "never"))
    get_settings.cache_clear()
    try:
        assert health.main() == 1
    finally:
        get_settings.cache_clear()
    assert "worker not alive" in capsys.readouterr().err


def test_the_metrics_server_answers_with_the_job_metrics_and_the_token(jobs_broker):
    settings = base_settings(metrics_token=METRICS_TOKEN, redis_url="redis://127.0.0.1:1/0")
    scraped = metrics.registry(settings)
    server = ThreadingHTTPServer(("127.0.0.1", 0), metrics.handler(settings, scraped))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/metrics", timeout=5)  # noqa: S310 - a local URL
        assert refused.value.code == 401
        request = urllib.request.Request(  # noqa: S310 - a local URL
            f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            body = response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/other", timeout=5)  # noqa: S310 - a local URL
        assert missing.value.code == 404
    finally:
        server.shutdown()
    assert "# TYPE jobs_enqueued_total counter" in body
    assert "# TYPE job_duration_seconds histogram" in body
    # Redis is unreachable here: the gauge is there, without a value.
    assert "# TYPE jobs_dead_letters gauge" in body


def test_a_dead_letter_is_described_for_the_operator(jobs_broker):
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=DEFAULT_QUEUE,
        actor_name="some_actor",
        args=(7,),
        kwargs={},
        options={"request_id": "req-1", "retries": 3, "traceback": "Traceback\nValueError: x\n"},
    )
    found = describe(DEFAULT_QUEUE, message, 0)
    assert found["error"] == "ValueError: x"
    assert (found["tries"], found["request_id"], found["args"]) == (3, "req-1", (7,))
    assert found["dead_since"] == "1970-01-01T00:00:00Z"
    assert parser().parse_args(["requeue", "--all"]).all


def test_dead_letter_commands_need_ids_or_all(capsys):
    from {{ cookiecutter.project_slug }}.jobs.dead_letters import main

    assert main(["delete"]) == 2
    assert "--all" in capsys.readouterr().err

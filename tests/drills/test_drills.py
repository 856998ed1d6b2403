"""Production drills: load, signals, outages and hostile input against running services.

Each combination is baked, migrated against a real server and started under its own
`gunicorn -c gunicorn.conf.py` in production mode with two workers. Every drill
records what it did in the summary printed at the end of the run (tests/conftest.py).
"""

import json
import os
import signal
import subprocess
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.drills import (
    ITEMS,
    accepted,
    case_problem,
    hostile_cases,
    send_raw,
    worker_pids,
)
from tests.helpers.load import default_mix, missing_items, run_load
from tests.helpers.running_service import start

# Both frameworks, both server databases, with and without Redis.
COMBOS = [
    {"framework": "fastapi", "database": "postgresql", "use_redis": True},
    {"framework": "flask", "database": "postgresql", "use_redis": False},
    {"framework": "fastapi", "database": "mysql", "use_redis": False},
    {"framework": "flask", "database": "mysql", "use_redis": True},
]
SERVER_OF = {"postgresql": "postgresql", "mysql": "mariadb"}
LOAD_REQUESTS = int(os.environ.get("DRILL_REQUESTS", "2000"))
CONCURRENCY = 32


def combo_id(combo):
    return (
        f"{combo['framework']}-{combo['database']}-{'redis' if combo['use_redis'] else 'noredis'}"
    )


class Drilled:
    """One baked, migrated project and how to (re)start it."""

    def __init__(self, project, env, database, redis):
        self.project = project
        self.env = env
        self.database = database
        self.redis = redis
        self.service = None

    def start(self):
        self.service = start(self.project, env=self.env, workers=2)
        return self.service

    @property
    def url(self):
        return self.service.url


# One xdist worker per combination: its drills share one service and run in file order.
PARAMS = [
    pytest.param(combo, id=combo_id(combo), marks=pytest.mark.xdist_group(combo_id(combo)))
    for combo in COMBOS
]


@pytest.fixture(scope="module", params=PARAMS)
def drilled(request, cookies_session, uv):
    combo = request.param
    result = cookies_session.bake(extra_context=combo)
    assert result.exit_code == 0, result.exception
    project = result.project_path
    database = request.getfixturevalue(SERVER_OF[combo["database"]])
    name = combo_id(combo).replace("-", "_")
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "drill-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database.create_database(name),
        # High enough that the load drill measures the service, not the limiter.
        "RATE_LIMIT": "1000000/minute",
        "HEALTH_CHECK_TIMEOUT": "1",
        "LOG_LEVEL": "INFO",
    }
    redis = None
    if combo["use_redis"]:
        redis = request.getfixturevalue("redis_server")
        env["REDIS_URL"] = redis.url(db=COMBOS.index(combo))
    for command in (["sync", "--quiet"], ["run", "--no-sync", "alembic", "upgrade", "head"]):
        done = subprocess.run(
            [uv, *command],
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    drill = Drilled(project, env, database, redis)
    drill.start()
    yield drill
    if drill.service is not None:
        drill.service.stop()


def test_load_mix_without_errors_and_every_write_readable(drill_record, drilled):
    outcome = run_load(drilled.url, LOAD_REQUESTS, CONCURRENCY, seconds=120, mix=default_mix(True))
    drill_record("load", sent=outcome.sent, errors=outcome.server_errors + outcome.dropped)
    assert outcome.sent == LOAD_REQUESTS, outcome.summary()
    assert outcome.server_errors == 0, outcome.summary()
    assert outcome.refused == 0 and outcome.dropped == 0, outcome.summary()
    assert outcome.statuses[201] > 0, outcome.summary()
    assert missing_items(drilled.url, outcome.written) == []


def load_in_background(url, total, seconds):
    box = {}

    def work():
        box["outcome"] = run_load(url, total, 16, seconds=seconds, mix=default_mix(True))

    thread = threading.Thread(target=work)
    thread.start()
    return thread, box


def test_reload_with_hup_drops_nothing(drill_record, drilled):
    thread, box = load_in_background(drilled.url, 100_000, seconds=6)
    time.sleep(2)
    old_workers = worker_pids(drilled.service)
    drilled.service.send_signal(signal.SIGHUP)
    thread.join()
    outcome = box["outcome"]
    drill_record(
        "reload (HUP)", sent=outcome.sent, errors=outcome.server_errors + outcome.dropped, faults=1
    )
    assert outcome.server_errors == 0, outcome.summary()
    assert outcome.refused == 0, outcome.summary()
    unanswered = accepted(drilled.service, outcome.dropped_ids)
    assert unanswered == [], f"accepted but never answered: {unanswered}; {outcome.summary()}"
    new_workers = worker_pids(drilled.service)
    assert new_workers and not (set(new_workers) & set(old_workers)), "HUP did not replace workers"


def test_killed_worker_is_replaced_and_service_keeps_answering(drill_record, drilled):
    workers = worker_pids(drilled.service)
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = worker_pids(drilled.service)
        if len(current) == len(workers) and workers[0] not in current:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"worker {workers[0]} was not replaced: {worker_pids(drilled.service)}")
    outcome = run_load(drilled.url, 200, 8, seconds=30, mix=[("GET", "/status")])
    drill_record("worker SIGKILL", sent=outcome.sent, errors=outcome.server_errors, faults=1)
    assert outcome.statuses[200] == 200, outcome.summary()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_database_outage_degrades_cleanly_and_recovers(drill_record, drilled):
    with httpx.Client(base_url=drilled.url, timeout=15) as client:
        before = client.post(ITEMS, json={"name": "written before the outage"})
        assert before.status_code == 201
        with drilled.database.down():
            started = time.monotonic()
            ready = client.get("/health/ready")
            ready_seconds = time.monotonic() - started
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["status"] == "error"
            assert ready_seconds < 1 + 1.0, f"readiness took {ready_seconds:.2f}s"
            assert client.get("/health/live").status_code == 200
            started = time.monotonic()
            listed = client.get(ITEMS)
            items_seconds = time.monotonic() - started
            assert listed.status_code == 503, listed.text
            assert listed.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert items_seconds < 6, f"a request needing the database took {items_seconds:.2f}s"
        assert wait_for(lambda: client.get(ITEMS).status_code == 200, 20), "no recovery"
        assert client.get("/health/ready").status_code == 200
        kept = client.get(f"{ITEMS}/{before.json()['id']}")
        assert kept.status_code == 200 and kept.json()["name"] == "written before the outage"
    drill_record("database restart", sent=0, errors=0, faults=1)


def test_redis_outage_fails_open_and_recovers(drill_record, drilled):
    if drilled.redis is None:
        pytest.skip("this combination has no Redis")
    with httpx.Client(base_url=drilled.url, timeout=15) as client:
        with drilled.redis.down():
            assert client.get("/status").status_code == 200  # rate limiting fails open
            ready = client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["redis"]["status"] == "error"
            assert client.get(ITEMS).status_code == 200
        assert wait_for(lambda: client.get("/health/ready").status_code == 200, 20)
    drill_record("redis restart", sent=0, errors=0, faults=1)


def test_fixed_hostile_inputs_get_the_right_4xx_in_the_error_shape(drill_record, drilled):
    failures = []
    cases = hostile_cases()
    for case in cases:
        problem = case_problem(case, send_raw(drilled.service.port, case.raw))
        if problem:
            failures.append(f"{case.name}: {problem}")
    drill_record("hostile input (fixed)", inputs=len(cases), errors=len(failures))
    assert failures == [], "\n".join(failures)
    assert_log_stream_intact(drilled.service)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = json_values | st.fixed_dictionaries(
    {"name": json_values}, optional={"description": json_values, "extra": json_values}
)
query_values = st.text(max_size=30) | st.integers().map(str)


def test_generated_inputs_never_get_a_5xx(drill_record, drilled):
    tried = {"n": 0}
    client = httpx.Client(base_url=drilled.url, timeout=15)

    @settings(
        max_examples=int(os.environ.get("DRILL_EXAMPLES", "150")),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(
        body=bodies,
        limit=query_values,
        offset=query_values,
        item=st.text(min_size=1, max_size=20),
    )
    def probe(body, limit, offset, item):
        for response in (
            client.post(ITEMS, content=json.dumps(body).encode()),
            client.get(ITEMS, params={"limit": limit, "offset": offset}),
            client.get(f"{ITEMS}/{quote(item, safe='')}"),
            client.patch(f"{ITEMS}/{quote(item, safe='')}", json=body),
        ):
            tried["n"] += 1
            assert response.status_code < 500, (response.status_code, response.text)
            if response.status_code >= 400:
                body_json = response.json()
                assert set(body_json["error"]) >= {"code", "message", "request_id"}
                assert "Traceback" not in response.text

    try:
        probe()
    finally:
        client.close()
        drill_record("hostile input (generated)", inputs=tried["n"], errors=0)
    assert_log_stream_intact(drilled.service)


def assert_log_stream_intact(service):
    """Every line on stdout is one JSON object; nothing a client sent forged another."""
    lines = service.lines()
    assert lines, "the service wrote no log lines"
    broken = []
    for line in lines:
        try:
            record_ = json.loads(line)
        except ValueError:
            broken.append(line[:200])
            continue
        if not isinstance(record_, dict) or "event" not in record_ or "forged" in record_:
            broken.append(line[:200])
    assert broken == [], broken[:5]


def test_sigterm_completes_every_accepted_request(drill_record, drilled):
    thread, box = load_in_background(drilled.url, 100_000, seconds=5)
    time.sleep(2)
    service = drilled.service
    service.send_signal(signal.SIGTERM)
    assert service.proc.wait(timeout=60) == 0, "gunicorn did not exit cleanly"
    thread.join()
    outcome = box["outcome"]
    unanswered = accepted(service, outcome.dropped_ids)
    drill_record(
        "graceful stop (TERM)",
        sent=outcome.sent,
        errors=len(unanswered) + outcome.server_errors,
        faults=1,
    )
    assert outcome.server_errors == 0, outcome.summary()
    assert unanswered == [], f"accepted but never answered: {unanswered}; {outcome.summary()}"
    assert outcome.statuses[200] + outcome.statuses[201] > 0, outcome.summary()
    # The next drill (xdist may order them differently) gets a running service again.
    drilled.start()

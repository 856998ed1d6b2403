"""Production drills: load, signals, outages and hostile input against running services.

Each combination is baked, migrated against a real server and started under its own
`gunicorn -c gunicorn.conf.py` in production mode with two workers. Every drill
records what it did in the summary printed at the end of the run (tests/conftest.py).
"""

import itertools
import json
import os
import signal
import socket
import subprocess
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.credentials import API_KEY, API_KEYS, HEADERS
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
# The drilled services' REQUEST_READ_TIMEOUT: short, so the slow-client drill takes seconds.
READ_TIMEOUT = 2


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
        "API_KEYS": API_KEYS,
        "DATABASE_URL": database.create_database(name),
        # High enough that the load drill measures the service, not the limiter.
        "RATE_LIMIT": "1000000/minute",
        "HEALTH_CHECK_TIMEOUT": "1",
        "LOG_LEVEL": "INFO",
        "REQUEST_READ_TIMEOUT": str(READ_TIMEOUT),
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


STOP_ROUNDS = 5
KEEPALIVE_CLIENTS = 8


def keepalive_client(url, name, tally):
    """GET the items over a kept-alive connection until the service stops listening.

    No retries, unlike the load generator. A request that goes out on a connection that has
    answered before and gets no answer is the failure this drill is about: the service closed
    a kept-alive connection under a request. A new connection reset before any answer is
    counted apart: it was queued on the listener in the instant the last process closed it.
    """
    reused = False  # whether the next request goes out on a connection that answered before
    with httpx.Client(base_url=url, timeout=10, headers=HEADERS) as client:
        for n in itertools.count():
            request_id = f"{name}-{n}"
            try:
                response = client.get(ITEMS, headers={"X-Request-ID": request_id})
            except httpx.ConnectError:
                tally["refused"] += 1  # not listening any more: never accepted
                return
            except httpx.TransportError as exc:
                tally["failed" if reused else "reset"].append((request_id, repr(exc)))
                reused = False
                continue
            if response.status_code >= 500:
                tally["failed"].append((request_id, f"{response.status_code} {response.text}"))
            else:
                tally["answered"] += 1
            reused = response.headers.get("connection", "").lower() != "close"


def test_sigterm_under_keepalive_clients_fails_no_request(drill_record, drilled):
    answered, failed, reset, unanswered = 0, [], [], []
    for round_ in range(STOP_ROUNDS):
        if drilled.service.proc.poll() is not None:
            drilled.start()
        tallies = [
            {"answered": 0, "failed": [], "reset": [], "refused": 0}
            for _ in range(KEEPALIVE_CLIENTS)
        ]
        clients = [
            threading.Thread(target=keepalive_client, args=(drilled.url, f"stop-{round_}-{n}", t))
            for n, t in enumerate(tallies)
        ]
        for client in clients:
            client.start()
        time.sleep(1)
        service = drilled.service
        service.send_signal(signal.SIGTERM)
        assert service.proc.wait(timeout=60) == 0, "gunicorn did not exit cleanly"
        for client in clients:
            client.join(timeout=30)
        answered += sum(tally["answered"] for tally in tallies)
        failed += [failure for tally in tallies for failure in tally["failed"]]
        reset += [failure for tally in tallies for failure in tally["reset"]]
        lost = [request_id for tally in tallies for request_id, _ in tally["reset"]]
        unanswered += accepted(service, lost + [request_id for request_id, _ in failed])
        drilled.start()
    drill_record(
        f"graceful stop (TERM), {KEEPALIVE_CLIENTS} keep-alive clients, x{STOP_ROUNDS}",
        sent=answered + len(failed) + len(reset),
        errors=len(failed) + len(unanswered),
        faults=STOP_ROUNDS,
        resets_before_accept=len(reset),
    )
    assert answered > 0
    assert failed == [], f"{len(failed)} on kept-alive connections: {failed[:5]}"
    assert unanswered == [], f"accepted and never answered: {unanswered}"


SLOW_CLIENTS = 16  # 4 for each of a Flask service's 4 threads in 2 workers, twice over
SLOW_REQUEST = (
    b"POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    + f"X-API-Key: {API_KEY}\r\n".encode()
    + b"Content-Length: 1000\r\n\r\n{"
)


def probe_live(url):
    """(status, seconds) of /health/live on a new connection; status 0 for no answer in 1 s."""
    started = time.monotonic()
    try:
        status = httpx.get(f"{url}/health/live", timeout=1).status_code
    except httpx.TransportError:
        status = 0
    return status, time.monotonic() - started


def test_slow_clients_stall_nothing_and_get_408(drill_record, drilled):
    """Clients that declare a body and send one byte of it (the attack that stalled gthread)."""
    slow, probes = [], []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", drilled.service.port), timeout=15)
            sock.sendall(SLOW_REQUEST)
            slow.append(sock)
        started = time.monotonic()
        while time.monotonic() - started < READ_TIMEOUT * 0.8:
            probes.append(probe_live(drilled.url))
            time.sleep(0.05)
        answers = [sock.recv(64) for sock in slow]
        waited = time.monotonic() - started
    finally:
        for sock in slow:
            sock.close()
    statuses = [status for status, _ in probes]
    slowest = max(seconds for _, seconds in probes)
    drill_record(
        f"slow clients ({SLOW_CLIENTS} trickled bodies)",
        sent=len(probes),
        errors=sum(status != 200 for status in statuses),
        faults=SLOW_CLIENTS,
    )
    assert statuses == [200] * len(probes), statuses
    # Well before any trickled request is let go: the probes never waited for one.
    assert slowest < READ_TIMEOUT / 2, f"the slowest probe took {slowest:.2f} s"
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[:3]
    assert waited < READ_TIMEOUT + 3, f"the trickled requests were held {waited:.1f} s"


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
    with httpx.Client(base_url=drilled.url, timeout=15, headers=HEADERS) as client:
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
    with httpx.Client(base_url=drilled.url, timeout=15, headers=HEADERS) as client:
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
    client = httpx.Client(base_url=drilled.url, timeout=15, headers=HEADERS)

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

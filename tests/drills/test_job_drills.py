"""Background-job drills: real Redis (append-only, as compose runs it), real PostgreSQL, the
baked service under gunicorn and its worker (`python -m <pkg>.jobs`) as real processes.

One project per framework (background_jobs=true). Retries, heartbeats and stops are set
short through the worker's own settings, so the set takes well under a minute per framework.
Every drill records its figures in the run's summary table (tests/conftest.py).
"""

import itertools
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from tests.helpers.credentials import API_KEYS, HEADERS
from tests.helpers.running_service import free_port, start, start_worker
from tests.helpers.servers import Redis, start_or_skip

COMBOS = [
    {"framework": "fastapi", "database": "postgresql", "use_redis": True, "background_jobs": True},
    {"framework": "flask", "database": "postgresql", "use_redis": True, "background_jobs": True},
]
ITEMS = "/api/v1/items"
# Short enough for a drill, in the worker's own settings (README.md, "Background jobs").
HEARTBEAT_TIMEOUT = 3
SHUTDOWN_GRACE = 5
WORKER_SETTINGS = {
    "JOBS_PROCESSES": "2",
    "JOBS_THREADS": "4",
    "JOBS_MAX_RETRIES": "3",
    "JOBS_MIN_BACKOFF": "0.2",
    "JOBS_MAX_BACKOFF": "1",
    "JOBS_SHUTDOWN_GRACE": str(SHUTDOWN_GRACE),
    "JOBS_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    # One broker command in ten looks for dead workers (the default is one in a hundred).
    "JOBS_MAINTENANCE_CHANCE": "100000",
}


def combo_id(combo):
    return f"{combo['framework']}-{combo['database']}-jobs"


PARAMS = [
    pytest.param(combo, id=combo_id(combo), marks=pytest.mark.xdist_group(combo_id(combo)))
    for combo in COMBOS
]


class Drilled:
    """One baked, migrated project: its web service, its Redis, and workers on demand."""

    def __init__(self, project, env, redis, log_dir):
        self.project = project
        self.env = env
        self.redis = redis
        self.log_dir = log_dir
        self.metrics_port = free_port()
        self.web = start(project, env=env, workers=2)
        self.workers = []

    def worker(self, **changes):
        env = {**self.env, **WORKER_SETTINGS, "JOBS_METRICS_PORT": str(self.metrics_port)}
        worker = start_worker(self.project, {**env, **changes}, self.log_dir)
        self.workers.append(worker)
        return worker

    def records(self):
        return [record for worker in self.workers for record in worker.records()]

    def redis_cli(self, *args):
        done = subprocess.run(
            ["redis-cli", "-p", str(self.redis.port), *args],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    def queued(self):
        """Messages waiting in the queue (not yet fetched by any worker)."""
        deadline = time.monotonic() + 30
        while True:
            reply = self.redis_cli("LLEN", "my-service:jobs:default")
            if reply.isdigit():
                return int(reply)
            # Just restarted, Redis answers LOADING while it reads its append-only file back.
            assert time.monotonic() < deadline and reply.startswith("LOADING"), reply
            time.sleep(0.1)

    def create(self, count, request_id=None):
        """Create `count` items through the API, 16 at a time; their ids."""

        def one(n):
            headers = {"X-Request-ID": request_id} if request_id else {}
            with httpx.Client(base_url=self.web.url, timeout=30, headers=HEADERS) as client:
                response = client.post(ITEMS, json={"name": f"job {n}"}, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()["id"]

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(one, range(count)))

    def unprocessed(self, ids):
        """Those of these items whose processed_at is still null."""
        wanted, waiting = set(ids), set()
        offset = 0
        while True:
            page = self.web.get(ITEMS, params={"limit": 100, "offset": offset}).json()
            for item in page["items"]:
                if item["id"] in wanted and item["processed_at"] is None:
                    waiting.add(item["id"])
            offset += 100
            if offset >= page["total"]:
                return waiting

    def wait_processed(self, ids, timeout=60):
        """Seconds until every item is processed; fails with the ones still waiting."""
        started = time.monotonic()
        while True:
            waiting = self.unprocessed(ids)
            if not waiting:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{len(waiting)} of {len(ids)} never processed")
            time.sleep(0.2)

    def stop_workers(self):
        for worker in self.workers:
            worker.stop()


@pytest.fixture(scope="module", params=PARAMS)
def drilled(request, cookies_session, uv, tmp_path_factory):
    combo = request.param
    result = cookies_session.bake(extra_context=combo)
    assert result.exit_code == 0, result.exception
    project = result.project_path
    postgresql = request.getfixturevalue("postgresql")
    redis = start_or_skip(Redis)
    redis.stop()
    redis.appendonly = True
    redis.start()
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "drill-secret-key-that-is-long-enough-0123456789",
        "API_KEYS": API_KEYS,
        "DATABASE_URL": postgresql.create_database(combo_id(combo).replace("-", "_")),
        "REDIS_URL": redis.url(),
        "RATE_LIMIT": "1000000/minute",
        "LOG_LEVEL": "INFO",
    }
    for command in (["sync", "--quiet"], ["run", "--no-sync", "alembic", "upgrade", "head"]):
        done = subprocess.run(
            [uv, *command], cwd=project, env={**os.environ, **env},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    drill = Drilled(project, env, redis, tmp_path_factory.mktemp("job-logs"))
    drill.postgresql = postgresql
    drill.database = combo_id(combo).replace("-", "_")
    yield drill
    drill.stop_workers()
    drill.web.stop()
    redis.cleanup()


def processed_counts(records):
    """item id -> how many times a job set its processed_at."""
    return Counter(r["item_id"] for r in records if r.get("event") == "item_processed")


def logged_counts(records_of, ids, timeout=10):
    """processed_counts once every one of `ids` has its line (or the timeout passed): a job
    logs its effect just after committing it, so the line can trail the database."""
    deadline = time.monotonic() + timeout
    while True:
        counts = processed_counts(records_of())
        if set(ids) <= set(counts) or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def test_500_items_are_all_processed_exactly_once(drill_record, drilled):
    worker = drilled.worker()
    started = time.monotonic()
    ids = drilled.create(500)
    created = time.monotonic() - started
    seconds = drilled.wait_processed(ids)
    counts = logged_counts(worker.records, ids)
    drill_record("jobs: 500 items", sent=500, errors=len(set(ids) - set(counts)))
    print(f"500 items created in {created:.1f} s, all processed {seconds:.1f} s after")
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    assert not [r for r in drilled.web.records() if r.get("event") == "job_enqueue_failed"]
    code, _ = worker.stop()
    assert code == 0


def test_sigkill_of_a_worker_process_loses_nothing(drill_record, drilled):
    # Queue first, then start the worker and kill one of its processes mid-stream.
    ids = drilled.create(300)
    worker = drilled.worker()
    # Dramatiq starts its worker processes before its fork (the metrics server).
    victim = min(worker.processes())
    while len(processed_counts(worker.records())) < 20:
        time.sleep(0.01)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    in_flight = sum(
        int(drilled.redis_cli("SCARD", key))
        for key in drilled.redis_cli("KEYS", "my-service:jobs:__acks__.*").split()
    )
    # Dramatiq's parent stops the rest when a process dies, and exits; the supervisor
    # (systemd's Restart=, compose's restart:, the Deployment) starts it again. (Not a second
    # SIGTERM: Dramatiq's processes then exit without stopping their threads, and hang.)
    assert worker.proc.wait(timeout=SHUTDOWN_GRACE + 10) != 0
    drilled.worker()
    seconds = drilled.wait_processed(ids, timeout=120)
    redelivered = time.monotonic() - killed
    counts = processed_counts(drilled.records())
    drill_record(
        "jobs: SIGKILL a worker process", sent=300, faults=1, errors=len(drilled.unprocessed(ids))
    )
    print(
        f"SIGKILL with {in_flight} jobs fetched and not acknowledged: all 300 done "
        f"{redelivered:.1f} s after the kill (JOBS_HEARTBEAT_TIMEOUT={HEARTBEAT_TIMEOUT} s)"
    )
    assert seconds >= 0
    # Each item's effect happened once; a job the killed process finished but never
    # acknowledged ran again and found it done.
    assert max(counts[i] for i in ids) == 1
    drilled.stop_workers()


def test_sigterm_under_load_loses_nothing_and_exits_within_the_grace(drill_record, drilled):
    worker = drilled.worker()
    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(drilled.create, 300)
        while len(processed_counts(worker.records())) < 50:
            time.sleep(0.01)
        code, seconds = worker.stop(signal.SIGTERM)
        ids = creating.result()
    drilled.worker()
    drilled.wait_processed(ids)
    drill_record(
        "jobs: SIGTERM under load", sent=300, faults=1, errors=len(drilled.unprocessed(ids))
    )
    print(
        f"SIGTERM under load: worker exited {code} in {seconds:.1f} s (grace {SHUTDOWN_GRACE} s)"
    )
    assert code == 0
    assert seconds <= SHUTDOWN_GRACE + 2
    drilled.stop_workers()


def count(pg, database, where):
    return int(pg.sql(f"SELECT count(*) FROM {where}", database).strip())


def test_a_job_still_running_after_the_grace_is_redelivered(drill_record, drilled):
    # A job held up past JOBS_SHUTDOWN_GRACE: another session locks its item's row.
    (item_id,) = drilled.create(1)
    pg = drilled.postgresql
    holder = subprocess.Popen(
        [str(pg.bin / "psql"), "-h", str(pg.dir), "-p", str(pg.port), "-U", "postgres",
         "-d", drilled.database, "-c",
         f"BEGIN; SELECT id FROM items WHERE id = {item_id} FOR UPDATE; SELECT pg_sleep(60);"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    grace = 2
    try:
        deadline = time.monotonic() + 10
        while not count(pg, drilled.database, "pg_locks WHERE mode = 'RowShareLock'"):
            assert time.monotonic() < deadline, "the row was never locked"
            time.sleep(0.1)
        # Far below DB_STATEMENT_TIMEOUT_MS (5 s): the job is still waiting when the grace ends.
        worker = drilled.worker(JOBS_SHUTDOWN_GRACE=str(grace))
        deadline = time.monotonic() + 10
        while not count(pg, drilled.database, "pg_stat_activity WHERE wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.1)
        code, seconds = worker.stop(signal.SIGTERM)
    finally:
        # The server keeps the lock while its session sleeps, client gone or not: end it.
        pg.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
            drilled.database,
        )
        holder.wait(timeout=10)
    assert drilled.unprocessed([item_id]) == {item_id}
    drilled.worker()
    waited = drilled.wait_processed([item_id], timeout=60)
    drill_record("jobs: running past the grace", sent=1, faults=1, errors=0)
    print(
        f"a job held past the grace: worker exited {code} in {seconds:.1f} s (grace {grace} s); "
        f"redelivered and done {waited:.1f} s after a new worker started"
    )
    assert seconds <= grace + 3
    assert logged_counts(drilled.records, [item_id])[item_id] == 1
    drilled.stop_workers()


def test_redis_restart_with_jobs_queued_loses_nothing(drill_record, drilled):
    # Jobs waiting in Redis when it restarts: the append-only file keeps them.
    queued = drilled.create(100)
    before = drilled.queued()
    drilled.redis.stop()
    drilled.redis.start()
    assert drilled.queued() == before >= 100
    # The web was not restarted: its next sends go through.
    after = drilled.create(20)
    worker = drilled.worker()
    drilled.wait_processed(queued + after)
    # And the worker, not restarted either, takes new jobs after Redis comes back again.
    pid = worker.proc.pid
    drilled.redis.stop()
    drilled.redis.start()
    later = drilled.create(20)
    drilled.wait_processed(later, timeout=60)
    assert worker.proc.poll() is None and worker.proc.pid == pid
    failed = [r for r in drilled.web.records() if r.get("event") == "job_enqueue_failed"]
    drill_record("jobs: Redis restart", sent=140, faults=2, errors=len(failed))
    assert failed == []
    drilled.stop_workers()


def scrape(port):
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    values = {}
    for line in text.splitlines():
        found = re.match(r'^(\w+)\{(?:actor|queue)="([^"]+)"\} (\S+)$', line)
        if found:
            values[(found.group(1), found.group(2))] = float(found.group(3))
    return values


def test_a_job_that_always_fails_is_retried_dead_lettered_and_requeued(drill_record, drilled):
    # The cause: the worker cannot reach the database.
    worker = drilled.worker(DATABASE_URL="postgresql://app:x@127.0.0.1:1/none")
    (item_id,) = drilled.create(1, request_id="drill-always-fails")
    deadline = time.monotonic() + 30

    def this_job_in(worker):
        # This job's lines only: a job an earlier drill left queued fails here too.
        return [r for r in worker.records() if r.get("request_id") == "drill-always-fails"]

    while not [r for r in this_job_in(worker) if r.get("event") == "job_dead_lettered"]:
        assert time.monotonic() < deadline, "never dead-lettered"
        time.sleep(0.1)
    mine = this_job_in(worker)
    outcomes = [r for r in mine if r["event"] in ("job_failed", "job_dead_lettered")]
    attempts = int(WORKER_SETTINGS["JOBS_MAX_RETRIES"]) + 1
    assert [r["event"] for r in outcomes] == ["job_failed"] * (attempts - 1) + [
        "job_dead_lettered"
    ]
    assert [r["attempt"] for r in outcomes] == list(range(1, attempts + 1))
    assert len({r["message_id"] for r in outcomes}) == 1
    delays = [r["retry_in_ms"] for r in outcomes[:-1]]
    low, high = (
        float(WORKER_SETTINGS["JOBS_MIN_BACKOFF"]) * 1000,
        float(WORKER_SETTINGS["JOBS_MAX_BACKOFF"]) * 1000,
    )
    for n, delay in enumerate(delays):
        bound = min(low * 2 ** (n + 1), high)
        assert bound / 2 <= delay <= bound, delays
    # The gaps between attempts are the delays, or more.
    stamps = [datetime.fromisoformat(r["timestamp"]).timestamp() for r in outcomes]
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    for gap, delay in zip(gaps, delays, strict=True):
        assert gap >= delay / 1000 - 0.05, (gaps, delays)
    metrics = scrape(drilled.metrics_port)
    assert metrics[("jobs_dead_lettered_total", "process_item")] == 1
    assert metrics[("jobs_failed_total", "process_item")] == attempts
    assert metrics[("jobs_retried_total", "process_item")] == attempts - 1
    assert metrics[("jobs_dead_letters", "default")] == 1

    # The cause removed (a worker with the right database), the operator requeues it.
    worker.stop()
    worker = drilled.worker()
    command = [
        str(drilled.project / ".venv" / "bin" / "python"),
        "-m",
        "my_service.jobs.dead_letters",
    ]
    env = {**os.environ, **drilled.env}
    listed = subprocess.run(
        [*command, "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=drilled.project,
    )
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (entry["actor"], entry["args"], entry["request_id"]) == (
        "process_item",
        [item_id],
        "drill-always-fails",
    )
    assert entry["tries"] == attempts - 1 and entry["error"]
    requeued = subprocess.run(
        [*command, "requeue", entry["message_id"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=drilled.project,
    )
    assert requeued.stdout == f"requeued {entry['message_id']}\n"
    drilled.wait_processed([item_id], timeout=30)
    # The job's outcome line follows its effect: wait for it too.
    deadline = time.monotonic() + 30
    while not [r for r in this_job_in(worker) if r["event"] == "job_succeeded"]:
        assert time.monotonic() < deadline, "the requeued job never logged its success"
        time.sleep(0.1)
    done = this_job_in(worker)
    assert [r["event"] for r in done if r["event"].startswith(("job_", "item_"))] == [
        "item_processed",
        "job_succeeded",
    ]
    assert scrape(drilled.metrics_port)[("jobs_dead_letters", "default")] == 0
    drill_record("jobs: always failing, then requeued", sent=1, faults=attempts, errors=0)
    print(f"always failing: {attempts} attempts, delays {delays} ms, dead-lettered, requeued")
    drilled.stop_workers()

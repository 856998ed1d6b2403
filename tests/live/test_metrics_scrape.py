"""A real scrape, after real traffic, passes `promtool check metrics` and reports every worker.

Each framework is baked with PostgreSQL and Redis (so both pools are there), migrated, and run
under gunicorn with two workers against real servers. After a mix of answers (200, 201, 404,
422, 429, readiness), one worker's scrape must hold every family docs/contract.md names, the
pool gauges of both workers (each keeps its pid), and nothing promtool's linter objects to.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import metric_names
from tests.helpers.deployment_tools import system_tool
from tests.helpers.rate_limit import in_one_window
from tests.helpers.running_service import running

FRAMEWORKS = ("fastapi", "flask")
WORKERS = 2
FAMILIES = metric_names.SERVICE
ITEMS = "/api/v1/items"
PER_WORKER = tuple(name for name in FAMILIES if name.startswith(("db_pool_", "redis_pool_")))
PER_WORKER = tuple(name for name in PER_WORKER if name != "db_pool_timeouts_total")


def value_lines(text: str, name: str) -> list[str]:
    """The sample lines of family `name` (a histogram's are its _bucket, _sum and _count)."""
    pattern = re.compile(rf"{name}(_bucket|_sum|_count)?(\{{| )")
    return [line for line in text.splitlines() if pattern.match(line)]


@pytest.fixture(scope="module", params=FRAMEWORKS)
def service(request, cookies_session, uv, postgresql, redis_server):
    framework = request.param
    # auth=none: the traffic below comes from ten client addresses, which the rate limit tells
    # apart only when no key names a principal (with one, it limits per principal).
    result = cookies_session.bake(
        extra_context={
            "framework": framework,
            "database": "postgresql",
            "use_redis": True,
            "auth": "none",
        }
    )
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    env = {
        "DATABASE_URL": postgresql.create_database(f"scrape_{framework}"),
        "REDIS_URL": redis_server.url(db=10 + FRAMEWORKS.index(framework)),
        "REDIS_KEY_PREFIX": f"scrape-{framework}-{time.time_ns()}:",
        "RATE_LIMIT": "30/hour",
        "TRUSTED_PROXIES": "127.0.0.0/8",
        "LOG_LEVEL": "WARNING",
    }
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
    with running(project, env=env, workers=WORKERS) as started:
        yield started


def traffic(service) -> None:
    for n in range(10):
        client = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
        assert service.get("/status", headers=client).status_code == 200
        created = service.request("POST", ITEMS, json={"name": f"i{n}"}, headers=client)
        assert created.status_code == 201, created.text
        read = service.get(f"{ITEMS}/{created.json()['id']}", headers=client)
        assert read.status_code == 200
        assert service.get(f"/missing/{n}", headers=client).status_code == 404
        assert service.get("/health/ready").status_code == 200
    invalid = service.request("POST", ITEMS, json={"name": ""}, headers=client)
    assert invalid.status_code == 422
    # Past RATE_LIMIT for one client: some 429s.
    answers = in_one_window(
        lambda: [service.get("/status", headers=client).status_code for _ in range(40)]
    )
    assert 429 in answers, answers


def test_a_scrape_after_traffic_passes_promtool_and_reports_every_worker(service):
    promtool = system_tool("promtool")
    traffic(service)
    # Each worker samples its pools within metrics.FLUSH_SECONDS of its start, whether or not
    # it has answered a request (one keep-alive connection may reach one worker only).
    deadline = time.monotonic() + 10
    while True:
        text = service.get("/metrics").text
        limits = value_lines(text, "db_pool_max_connections")
        sampled = len(limits) == WORKERS and not any(line.endswith(" 0.0") for line in limits)
        if sampled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name in FAMILIES:
        assert value_lines(text, name), f"{name} is not in the scrape"
    for name in PER_WORKER:
        found = {re.search(r'pid="(\d+)"', line).group(1) for line in value_lines(text, name)}
        assert len(found) == WORKERS, f"{name}: {found}"
    assert any('status="429"' in line for line in value_lines(text, "http_requests_total"))
    assert any('status="201"' in line for line in value_lines(text, "http_requests_total"))
    # The scrape itself is the one request in flight, whichever worker answers it.
    assert value_lines(text, "http_requests_in_flight") == ["http_requests_in_flight 1.0"]
    (build,) = value_lines(text, "service_build_info")
    assert 'environment="production"' in build and build.endswith(" 1.0")
    for check in ("database", "redis"):
        assert f'readiness_check_up{{check="{check}"}} 1.0' in text
    # 5 + 10, the defaults, in both workers.
    assert all(line.endswith(" 15.0") for line in limits), limits

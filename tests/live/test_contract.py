"""One contract suite, over HTTP, against both frameworks run as in production.

Each project is baked with database=none (and once per framework with Redis, against a real
redis-server), installed, and started with `gunicorn -c gunicorn.conf.py` and two workers.
The same test bodies run against every one of them, so the variants cannot drift apart.
docs/contract.md is the text these tests hold the services to.
"""

import hashlib
import itertools
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cookiecutter.main import cookiecutter

from tests.helpers.credentials import API_KEY, API_KEYS
from tests.helpers.rate_limit import HOUR, in_one_window
from tests.helpers.running_service import SECRET, Service, install, running
from tests.helpers.template import ROOT

VARIANTS = {
    "fastapi": {"framework": "fastapi", "database": "none", "use_redis": False},
    "flask": {"framework": "flask", "database": "none", "use_redis": False},
    "fastapi-redis": {"framework": "fastapi", "database": "none", "use_redis": True},
    "flask-redis": {"framework": "flask", "database": "none", "use_redis": True},
}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
ENV = {
    "RATE_LIMIT": "20/hour",
    "MAX_REQUEST_BYTES": "1000",
    "HEALTH_CHECK_TIMEOUT": "0.5",
    # A range, as the shipped compose, Kubernetes and PaaS settings are: the peer (127.0.0.1)
    # is a proxy, and so is any client inside it.
    "TRUSTED_PROXIES": "127.0.0.0/8",
    "CORS_ORIGINS": "https://app.example.com",
    "LOG_LEVEL": "INFO",
}
# Each test speaks as its own client (a trusted proxy forwards for it), so the rate limit of
# one test never spills into another.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def as_client(address: str | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address or next(_addresses)}


@pytest.fixture(scope="module", params=list(VARIANTS))
def service(request, tmp_path_factory, uv):
    answers = VARIANTS[request.param]
    output = tmp_path_factory.mktemp(request.param)
    project = Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(output), extra_context=answers)
    )
    install(project, uv)
    env = dict(ENV)
    redis = None
    if answers["use_redis"]:
        redis = request.getfixturevalue("redis_server")
        env["REDIS_URL"] = redis.url()
        env["REDIS_KEY_PREFIX"] = f"contract-{request.param}-{time.time_ns()}:"
        env["REDIS_TIMEOUT"] = "0.3"
    # These services have no API route: their requests are counted by address, as sent.
    with running(project, env=env, workers=2, log_dir=output, credentials={}) as started:
        started.redis = redis
        yield started


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def test_probes_and_status(service: Service):
    live = service.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    status = service.get("/status", headers=as_client())
    assert status.status_code == 200
    assert status.json() == {
        "name": "my-service",
        "version": status.json()["version"],
        "environment": "production",
    }
    ready = service.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    expected_checks = {"redis"} if service.redis else set()
    assert set(body["checks"]) == expected_checks
    for check in body["checks"].values():
        assert check["status"] == "ok" and check["latency_ms"] >= 0
    detailed = service.get("/health").json()
    assert detailed["environment"] == "production"
    assert detailed["uptime_seconds"] >= 0
    assert set(detailed["checks"]) == expected_checks


def test_error_shapes(service: Service):
    error_of(service.get("/no/such/path", headers=as_client()), 404, "NOT_FOUND")
    not_allowed = service.request("DELETE", "/status", headers=as_client())
    error_of(not_allowed, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in not_allowed.headers["allow"]
    # Outside development there is no route list and no API docs.
    error_of(service.get("/api/routes", headers=as_client()), 404, "NOT_FOUND")
    error_of(service.get("/docs", headers=as_client()), 404, "NOT_FOUND")


def test_no_path_is_redirected(service: Service):
    # A redirect's Location would be built from the Host header, which the client chooses.
    for path in ("/status/", "/health/live/", "/health//live"):
        headers = {"Host": "evil.example", **as_client()}
        response = service.get(path, headers=headers, follow_redirects=False)
        error_of(response, 404, "NOT_FOUND")
        assert "location" not in response.headers, path


def test_bodies_over_the_limit_get_413(service: Service):
    by_length = service.request("POST", "/status", content=b"x" * 1001, headers=as_client())
    error_of(by_length, 413, "PAYLOAD_TOO_LARGE")

    def chunks():
        for _ in range(50):
            yield b"x" * 100

    streamed = service.request("POST", "/status", content=chunks(), headers=as_client())
    # No Content-Length: refused while streaming (or, where the route takes no body, at 405).
    assert streamed.status_code in {405, 413}
    error_of(streamed, streamed.status_code, streamed.json()["error"]["code"])


def test_rate_limit_gives_429_with_retry_after(service: Service):
    def burst() -> tuple[dict[str, str], list[int]]:
        headers = as_client()
        return headers, [service.get("/status", headers=headers).status_code for _ in range(45)]

    # Without Redis each of the two workers counts on its own: at most twice the limit passes.
    headers, statuses = in_one_window(burst)
    assert 429 in statuses, statuses
    assert statuses.count(200) >= 20
    limited = service.get("/status", headers=headers)
    error_of(limited, 429, "RATE_LIMITED")
    assert 1 <= int(limited.headers["retry-after"]) <= HOUR
    # Probes are never limited.
    assert service.get("/health/live", headers=headers).status_code == 200
    assert service.get("/metrics", headers=headers).status_code == 200


def test_forged_forwarded_for_from_inside_the_trusted_range_is_still_limited(service: Service):
    # A client at 127.0.0.9, inside TRUSTED_PROXIES, rotates what it writes left of the entry
    # the proxy appended for it; under gunicorn both frameworks must key it on 127.0.0.9.
    def burst() -> list[int]:
        statuses = []
        for n in range(45):
            forged = [f"203.0.113.{n}", "not-an-ip", "x" * 300, f"10.0.0.{n}"][n % 4]
            response = service.get("/status", headers={"X-Forwarded-For": f"{forged}, 127.0.0.9"})
            statuses.append(response.status_code)
        return statuses

    statuses = in_one_window(burst)
    assert 429 in statuses, statuses
    assert statuses.count(200) <= 2 * int(ENV["RATE_LIMIT"].split("/")[0])
    # Ports are stripped, so the same client is logged and counted one way.
    service.get(
        "/status", headers={"X-Forwarded-For": "198.51.100.250:4711", "X-Request-ID": "port"}
    )
    assert (
        service.wait_for_record(event="request", request_id="port")["client"] == "198.51.100.250"
    )


def test_cors_refusals_are_the_error_shape(service: Service):
    preflight = {"Access-Control-Request-Method": "POST", **as_client()}
    for origin in ("https://evil.example", "null", "https://app.example.com.evil.net"):
        refused = service.request("OPTIONS", "/status", headers={**preflight, "Origin": origin})
        error_of(refused, 400, "BAD_REQUEST")
        assert "access-control-allow-origin" not in refused.headers
        assert "origin" in refused.headers["vary"].lower()
    allowed = service.request(
        "OPTIONS", "/status", headers={**preflight, "Origin": "https://app.example.com"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "origin" in service.get("/status", headers=as_client()).headers["vary"].lower()


def test_headers_on_every_response(service: Service):
    for path in ("/status", "/no/such/path", "/health/live"):
        response = service.get(path, headers=as_client())
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert "permissions-policy" in response.headers
        for name in ("server", "x-powered-by"):
            assert not re.search(r"\d", response.headers.get(name, "")), response.headers


def test_request_ids_are_kept_or_replaced(service: Service):
    kept = service.get("/status", headers={**as_client(), "X-Request-ID": "contract.id-1_A"})
    assert kept.headers["x-request-id"] == "contract.id-1_A"
    error = service.get("/no/such", headers={**as_client(), "X-Request-ID": "contract-404"})
    assert error.json()["error"]["request_id"] == "contract-404"
    for bad in ("x" * 129, "has space", 'quote"brace}'):
        replaced = service.get("/status", headers={**as_client(), "X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


def test_access_log_lines(service: Service):
    client = next(_addresses)
    service.get("/status?probe=1", headers={"X-Forwarded-For": client, "X-Request-ID": "log-1"})
    line = service.wait_for_record(event="request", request_id="log-1")
    assert line["method"] == "GET"
    assert line["route"] == "/status"
    assert line["path"] == "/status"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["client"] == client
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    # Probes are logged at debug only, so not at all at INFO.
    service.get("/health/live", headers={"X-Request-ID": "probe-1"})
    service.get("/status", headers={**as_client(), "X-Request-ID": "after-probe"})
    service.wait_for_record(event="request", request_id="after-probe")
    assert not [r for r in service.records() if r.get("request_id") == "probe-1"]


def test_one_json_object_per_line_even_with_hostile_values(service: Service):
    forged = '{"event":"request","request_id":"forged","status":200}'
    hostile_path = "/x%0A" + forged.replace('"', "%22") + "%0D%0A"
    service.get(hostile_path, headers={"X-Forwarded-For": forged, "X-Request-ID": "hostile"})
    service.get("/status", headers={"X-Forwarded-For": '"}\t{"a":"', "X-Request-ID": "hostile2"})
    line = service.wait_for_record(event="request", request_id="hostile")
    assert "\n" in line["path"]
    service.wait_for_record(event="request", request_id="hostile2")
    records = service.records()  # fails if any line is not one JSON object
    assert not [r for r in records if r.get("request_id") == "forged"]
    # gunicorn's own lines went through the same formatter.
    assert any(r.get("logger", "").startswith("gunicorn") for r in records)
    assert not [r for r in records if r.get("event") == "request" and r.get("status") == 500]


def test_metrics_use_route_templates_and_sum_workers(service: Service):
    for n in range(12):
        service.get("/status", headers=as_client())
        service.get(f"/unknown/{n}", headers=as_client())
    # Both workers answered some of these; only the multiprocess sum reaches 12. A worker
    # writes its counts within a second (metrics.FLUSH_SECONDS), the scraped one at once.
    deadline = time.monotonic() + 5
    while True:
        text = service.get("/metrics").text
        counts = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("http_requests_total{")
            and 'route="/status"' in line
            and 'status="200"' in line
        ]
        if sum(counts) >= 12 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sum(counts) >= 12
    assert 'route="/unknown/3"' not in text
    assert 'route="<unmatched>"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "process_resident_memory_bytes" in text
    # docs/contract.md's families (pools: tests/live/test_metrics_scrape.py, with a database).
    assert "\nhttp_requests_in_flight 1.0\n" in text  # the scrape itself
    assert "\nhttp_request_duration_objective_seconds 1.0\n" in text  # SLOW_REQUEST_MS
    build = 'service_build_info{environment="production",service="my-service",version="'
    assert build in text
    service.get("/health/ready")
    text = service.get("/metrics").text
    if service.redis:
        assert 'readiness_check_up{check="redis"} 1.0' in text
        assert 'readiness_check_duration_seconds{check="redis"}' in text
        assert 'redis_pool_max_connections{pid="' in text
    else:
        assert "readiness_check_up{" not in text and "redis_pool_" not in text


def test_redis_outage_fails_open_and_recovers(service: Service):
    if service.redis is None:
        pytest.skip("this variant has no Redis")
    with service.redis.down():
        started = time.monotonic()
        ready = service.get("/health/ready")
        assert time.monotonic() - started < 2.5
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"]["status"] == "error"
        assert service.get("/health/live").status_code == 200
        # Rate limiting fails open: requests still succeed.
        assert service.get("/status", headers=as_client()).status_code == 200
        service.wait_for_record(event="rate_limit_storage_unavailable")
    deadline = time.monotonic() + 10
    while service.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline, "readiness did not recover after Redis came back"
        time.sleep(0.2)
    assert service.get("/status", headers=as_client()).status_code == 200


# Authentication (docs/contract.md, "Authentication") needs an API route: these services have
# the example resource, on SQLite, and the default auth=api-key.
READER_KEY = "contract-reader-key-7hQm2Vx9Lc4Rt8Wz"
READER = {"X-API-Key": READER_KEY}
ITEMS = "/api/v1/items"
CHALLENGE = 'ApiKey realm="my-service"'


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def api(request, tmp_path_factory, uv):
    output = tmp_path_factory.mktemp(f"api-{request.param}")
    answers = {"framework": request.param, "database": "sqlite"}
    project = Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(output), extra_context=answers)
    )
    install(project, uv)
    reader = f"reader:items:read:{hashlib.sha256(READER_KEY.encode()).hexdigest()}"
    env = {
        **ENV,
        "DATABASE_URL": f"sqlite:///{output / 'api.db'}",
        "API_KEYS": f"{API_KEYS},{reader}",
    }
    subprocess.run(
        [uv, "run", "--no-sync", "alembic", "upgrade", "head"],
        cwd=project,
        env={**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": SECRET, **env},
        check=True,
        capture_output=True,
    )
    with running(project, env=env, workers=2, log_dir=output) as started:
        yield started


def anonymous(api: Service) -> httpx.Client:
    """A client without credentials (the Service's own sends the tests' key)."""
    return httpx.Client(base_url=api.url, timeout=10)


def test_api_routes_need_credentials_with_the_scope(api: Service):
    created = api.request("POST", ITEMS, json={"name": "contract"}, headers=as_client())
    assert created.status_code == 201, created.text
    assert api.get(ITEMS, headers=as_client()).json()["total"] >= 1
    with anonymous(api) as client:
        bare = client.get(ITEMS, headers=as_client())
    error = error_of(bare, 401, "UNAUTHORIZED")
    assert bare.headers["www-authenticate"] == CHALLENGE
    assert error["message"] == "Valid credentials are required"
    wrong = api.get(ITEMS, headers={**as_client(), "X-API-Key": "not-a-key"})
    error_of(wrong, 401, "UNAUTHORIZED")
    assert wrong.headers["www-authenticate"] == f'{CHALLENGE}, error="invalid_token"'
    # The read-only key reads, and may not write.
    assert api.get(ITEMS, headers={**as_client(), **READER}).status_code == 200
    refused = api.request("POST", ITEMS, json={"name": "x"}, headers={**as_client(), **READER})
    error_of(refused, 403, "FORBIDDEN")
    assert refused.headers["www-authenticate"] == (
        f'{CHALLENGE}, error="insufficient_scope", scope="items:write"'
    )


def test_a_repeated_credential_header_authenticates_nothing(api: Service):
    headers = [("X-API-Key", API_KEY), ("X-API-Key", API_KEY), *as_client().items()]
    with anonymous(api) as client:
        error_of(client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")


def test_operational_routes_need_no_credentials(api: Service):
    with anonymous(api) as client:
        for path in ("/health/live", "/health/ready", "/status", "/metrics"):
            assert client.get(path, headers=as_client()).status_code == 200, path
        error_of(client.get(ITEMS, headers=as_client()), 401, "UNAUTHORIZED")


def test_the_access_line_names_the_principal_and_never_a_key(api: Service):
    api.get(ITEMS, headers={**as_client(), "X-Request-ID": "principal-1"})
    api.get(ITEMS, headers={**as_client(), **READER, "X-Request-ID": "principal-2"})
    api.get(ITEMS, headers={**as_client(), "X-API-Key": "x" * 40, "X-Request-ID": "principal-3"})
    assert api.wait_for_record(event="request", request_id="principal-1")["principal"] == (
        "template-tests"
    )
    assert api.wait_for_record(event="request", request_id="principal-2")["principal"] == "reader"
    third = api.wait_for_record(event="request", request_id="principal-3")
    assert "principal" not in third and third["status"] == 401
    refusal = api.wait_for_record(event="auth_refused", request_id="principal-3")
    assert refusal["reason"] == "unknown_key"
    log = "\n".join(api.lines())
    for secret in (API_KEY, READER_KEY, API_KEY[-10:], READER_KEY[-10:]):
        assert secret not in log


def test_an_authenticated_caller_is_limited_as_itself(api: Service):
    # 20/hour per worker: one principal from ever new addresses is still limited.
    statuses = in_one_window(
        lambda: [api.get(ITEMS, headers={**as_client(), **READER}).status_code for _ in range(45)]
    )
    assert 429 in statuses, statuses
    assert statuses.count(200) <= 2 * int(ENV["RATE_LIMIT"].split("/")[0])


def test_cors_preflights_may_ask_for_the_credential_headers(api: Service):
    headers = {
        **as_client(),
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-api-key",
    }
    with anonymous(api) as client:
        preflight = client.options(ITEMS, headers=headers)
    assert preflight.status_code == 200, preflight.text
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-api-key" in allowed


def test_graceful_stop(service: Service):
    # Last in the module: the service is stopped here, the fixture's stop is then a no-op.
    assert service.stop(signal.SIGTERM, timeout=30) == 0
    assert any("Shutting down" in r.get("event", "") for r in service.records())

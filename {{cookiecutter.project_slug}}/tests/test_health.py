import time

import pytest


def test_liveness_answers_ok_without_io(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_with_every_check_passing(make_client):
    client = make_client(checks={"database": "ok"})
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0


def test_readiness_is_503_when_a_check_fails(make_client):
    client = make_client(checks={"database": "ok", "redis": "fail"})
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {
        "status": "error",
        "error": "ConnectionError",
        "latency_ms": body["checks"]["redis"]["latency_ms"],
    }


def test_a_hanging_check_is_cut_off_at_the_timeout(make_client):
    client = make_client(checks={"slow": "hang", "fast": "ok"}, health_check_timeout=0.2)
    started = time.monotonic()
    response = client.get("/health/ready")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["slow"]["error"] == "timeout"
    assert response.json()["checks"]["fast"]["status"] == "ok"
    assert elapsed < 1.5


@pytest.mark.parametrize(("check", "status"), [("ok", 200), ("fail", 503)])
def test_detailed_health_reports_version_environment_and_uptime(make_client, check, status):
    response = make_client(checks={"database": check}).get("/health")
    assert response.status_code == status
    body = response.json()
    assert body["environment"] == "test"
    assert body["version"]
    assert body["uptime_seconds"] >= 0
    assert body["checks"]["database"]["status"] == ("ok" if check == "ok" else "error")


def test_status_names_the_service(client):
    response = client.get("/status")
    assert response.status_code == 200
    assert response.json() == {
        "name": "{{ cookiecutter.__service_name }}",
        "version": response.json()["version"],
        "environment": "test",
    }

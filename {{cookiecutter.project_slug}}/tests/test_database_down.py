"""With the database unreachable the service answers quickly and in the contract's shape."""

import time

import pytest


@pytest.fixture
def client(make_client, unreachable_url):
    return make_client(database_url=unreachable_url, db_connect_timeout=1, health_check_timeout=2)


def test_a_request_that_needs_the_database_gets_a_503(client):
    started = time.monotonic()
    response = client.get("/api/v1/items", headers={"X-Request-ID": "db-down-1"})
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["request_id"] == "db-down-1"
    assert "Traceback" not in response.text


def test_readiness_reports_the_database_and_liveness_stays_up(client):
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["status"] == "error"
    assert client.get("/health/live").status_code == 200

# Limits per hour, not per minute: a fixed window that closes between two requests of a test
# would let the second through (it did, once, at 05:38:59.75 and 05:39:00.05).


def test_requests_over_the_limit_get_429_with_retry_after(make_client):
    client = make_client(rate_limit="3/hour")
    statuses = [client.get("/status").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/status")
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "RATE_LIMITED"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


def test_probes_and_metrics_are_exempt(make_client):
    client = make_client(rate_limit="1/hour")
    assert client.get("/status").status_code == 200
    for _ in range(3):
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert client.get("/status").status_code == 429


def test_clients_are_limited_separately(make_client):
    # Without credentials: a principal is counted as itself, wherever it calls from.
    client = make_client(rate_limit="1/hour", trusted_proxies=["127.0.0.1"], credentials={})
    # The test clients connect from a trusted address, so X-Forwarded-For names the client.
    assert client.get("/status", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert client.get("/status", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429
    assert client.get("/status", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 200


def test_empty_rate_limit_turns_limiting_off(make_client):
    client = make_client(rate_limit="")
    assert all(client.get("/status").status_code == 200 for _ in range(20))

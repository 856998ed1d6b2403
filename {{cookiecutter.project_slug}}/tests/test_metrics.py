import asyncio
import time

from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from {{ cookiecutter.project_slug }}.core import health, metrics


def test_metrics_count_requests_by_route_template(client):
    client.get("/test/items/1")
    client.get("/test/items/2")
    client.get("/no/such/path/3")
    text = client.get("/metrics").text
    assert 'route="/test/items/{item_id}"' in text
    assert 'route="/test/items/1"' not in text
    assert 'route="<unmatched>"' in text
    assert "http_request_duration_seconds_bucket" in text
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("http_requests_total{") and 'route="/test/items/{item_id}"' in line
    )
    assert 'method="GET"' in line and 'status="200"' in line
    assert float(line.rsplit(" ", 1)[1]) >= 2


def test_unknown_methods_share_one_label(client):
    client.request("BREW", "/status")
    assert 'method="OTHER"' in client.get("/metrics").text


def test_metrics_include_process_metrics(client):
    assert "process_cpu_seconds_total" in client.get("/metrics").text


def test_metrics_can_be_switched_off(make_client):
    assert make_client(metrics_enabled=False).get("/metrics").status_code == 404


def test_route_list_outside_production(client):
    response = client.get("/api/routes")
    assert response.status_code == 200
    routes = response.json()["routes"]
    assert {"method": "GET", "path": "/status"} in routes
    assert {"method": "GET", "path": "/test/items/{item_id}"} in routes
    assert routes == sorted(routes, key=lambda r: (r["path"], r["method"]))


def test_no_route_list_in_production(make_client):
    assert make_client(environment="production").get("/api/routes").status_code == 404


def _samples(registry, metric, route):
    return {
        (sample.name, sample.labels.get("le")): sample.value
        for family in registry.collect()
        if family.name == metric
        for sample in family.samples
        if sample.labels.get("route") == route and not sample.name.endswith("_created")
    }


def test_batched_observations_equal_one_by_one_observations():
    route = "/test/batched"
    durations = [0.001, 0.005, 0.0051, 0.3, 0.3, 7.5, 12.0, 0.0]
    reference = CollectorRegistry()
    one_by_one = Histogram(
        "http_request_duration_seconds",
        "reference",
        ["method", "route", "status"],
        buckets=metrics.BUCKETS,
        registry=reference,
    ).labels("GET", route, "200")
    for seconds in durations:
        one_by_one.observe(seconds)
        metrics.observe("GET", route, 200, seconds)
    metrics.flush()
    batched = _samples(REGISTRY, "http_request_duration_seconds", route)
    expected = _samples(reference, "http_request_duration_seconds", route)
    assert batched == expected
    assert batched[("http_request_duration_seconds_count", None)] == len(durations)
    counted = _samples(REGISTRY, "http_requests", route)
    assert counted == {("http_requests_total", None): len(durations)}


def test_observations_reach_the_values_without_a_scrape():
    route = "/test/unscraped"
    metrics.observe("GET", route, 200, 0.01)
    deadline = time.monotonic() + metrics.FLUSH_SECONDS * 5
    while not _samples(REGISTRY, "http_requests", route) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _samples(REGISTRY, "http_requests", route) == {("http_requests_total", None): 1}


def test_unknown_methods_do_not_grow_the_pending_table():
    for n in range(50):
        metrics.observe(f"BREW{n}", "/test/methods", 405, 0.001)
    metrics.flush()
    counted = _samples(REGISTRY, "http_requests", "/test/methods")
    assert counted == {("http_requests_total", None): 50}


def test_in_an_event_loop_observations_are_counted_on_its_next_turn():
    route = "/test/next-turn"

    async def answer() -> bool:
        metrics.observe("GET", route, 200, 0.01)
        metrics.observe("GET", route, 200, 0.02)
        await asyncio.sleep(0)
        return not metrics._observed

    assert asyncio.run(answer())  # counted by the loop, with no flush asked for
    metrics.flush()
    assert _samples(REGISTRY, "http_requests", route) == {("http_requests_total", None): 2}


def _value(name, **labels):
    metrics.flush()
    return REGISTRY.get_sample_value(name, labels)


def test_requests_in_flight_are_those_arrived_and_not_yet_left(client):
    before = _value("http_requests_in_flight")
    metrics.arrived()
    metrics.arrived()
    metrics.left()
    assert _value("http_requests_in_flight") == before + 1
    metrics.left()
    assert _value("http_requests_in_flight") == before
    # Every answer leaves as it arrived: the scrape itself is the one in flight.
    client.get("/status")
    client.get("/no/such/path")
    scraped = client.get("/metrics").text
    assert "\nhttp_requests_in_flight 1.0\n" in scraped


def test_build_info_and_latency_objective(make_client):
    text = make_client(slow_request_ms=250).get("/metrics").text
    assert 'service_build_info{environment="test",service="' in text
    assert "\nhttp_request_duration_objective_seconds 0.25\n" in text


def test_readiness_checks_leave_their_last_result_and_latency():
    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ConnectionError("down")

    asyncio.run(health.run_async({"test-fine": fine, "test-broken": broken}, timeout=1))
    assert _value("readiness_check_up", check="test-fine") == 1
    assert _value("readiness_check_up", check="test-broken") == 0
    assert _value("readiness_check_duration_seconds", check="test-fine") >= 0
    # The next run replaces the last result.
    asyncio.run(health.run_async({"test-broken": fine}, timeout=1))
    assert _value("readiness_check_up", check="test-broken") == 1


def test_a_failing_sampler_neither_stops_the_flush_nor_the_others(logs):
    seen = []

    def broken() -> None:
        raise RuntimeError("gone")

    metrics.sample("test-broken", broken)
    metrics.sample("test-working", lambda: seen.append(1))
    try:
        metrics.observe("GET", "/test/sampled", 200, 0.01)
        metrics.flush()
    finally:
        del metrics._samplers["test-broken"], metrics._samplers["test-working"]
    assert seen == [1]
    counted = _samples(REGISTRY, "http_requests", "/test/sampled")
    assert counted == {("http_requests_total", None): 1}
    failed = [r["sampler"] for r in logs() if r["event"] == "metrics_sample_failed"]
    assert failed == ["test-broken"]

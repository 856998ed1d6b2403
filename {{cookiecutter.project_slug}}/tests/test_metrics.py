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

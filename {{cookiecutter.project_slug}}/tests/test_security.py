import pytest

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.mark.parametrize("path", ["/status", "/no/such/path", "/test/boom", "/health/live"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_in_production_only(make_client):
    response = make_client(environment="production").get("/status")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_server_version_in_any_header(client):
    response = client.get("/status")
    for name, value in response.headers.items():
        if name.lower() in {"server", "x-powered-by"}:
            assert not any(ch.isdigit() for ch in value), (name, value)


def test_cors_allows_listed_origins_only(make_client):
    client = make_client(cors_origins=["https://app.example"])
    allowed = client.get("/status", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.get("/status", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_cors_headers_without_origins(client):
    response = client.get("/status", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in response.headers

"""CORS, the same in both frameworks: listed origins only, refusals in the error shape, and
`Vary: Origin` on every answer."""

import pytest

ALLOWED = "https://app.example.com"
# What a review got Flask-CORS to allow with `null,https://.*`: none is listed here.
REFUSED = ["https://evil.example", "null", "https://app.example.com.evil.net", "HTTPS://EVIL"]


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST"}


@pytest.fixture
def client(make_client):
    return make_client(cors_origins=[ALLOWED])


def varies_on_origin(response) -> bool:
    """`Vary` names Origin, once."""
    vary: str = response.headers.get("vary", "")
    return vary.lower().count("origin") == 1


def test_a_listed_origin_is_allowed(client):
    response = client.options("/status", headers=preflight(ALLOWED))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert varies_on_origin(response)
    response = client.get("/status", headers={"Origin": ALLOWED})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]
    assert varies_on_origin(response)


@pytest.mark.parametrize("origin", REFUSED)
def test_a_preflight_from_another_origin_is_refused_in_the_error_shape(client, origin):
    response = client.options("/status", headers=preflight(origin))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST"
    assert error["message"] == "Disallowed CORS origin"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "access-control-allow-origin" not in response.headers
    assert varies_on_origin(response)


@pytest.mark.parametrize("origin", REFUSED)
def test_other_origins_get_no_cors_headers(client, origin):
    response = client.get("/status", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert varies_on_origin(response)


def test_answers_without_an_origin_vary_on_it_too(client):
    response = client.get("/status")
    assert response.status_code == 200
    assert varies_on_origin(response)

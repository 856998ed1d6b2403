import re

import pytest


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["Content-Type"].startswith("application/json")
    return body["error"]


def test_unknown_path_is_404_in_the_error_shape(client):
    response = client.get("/no/such/path")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "NOT_FOUND",
        "message": "Not Found",
        "request_id": response.headers["X-Request-ID"],
    }


@pytest.mark.parametrize("path", ["/status/", "/health/live/", "/test/slash", "/test//items/1"])
def test_no_path_is_redirected_to_the_request_host(client, path):
    # Either framework would build the redirect's Location from the Host header, which the
    # client chooses: a path is answered as written or not at all.
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert error_of(response)["code"] == "NOT_FOUND"


def test_a_route_with_a_trailing_slash_answers_as_written(client):
    assert client.get("/test/slash/", follow_redirects=False).status_code == 200


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/status")
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response.headers["Allow"]


def test_body_over_the_limit_is_413_by_content_length(make_client):
    client = make_client(max_request_bytes=100)
    response = client.post("/test/echo", content=b"x" * 101)
    assert response.status_code == 413
    assert error_of(response)["code"] == "PAYLOAD_TOO_LARGE"


def test_body_at_the_limit_is_accepted(make_client):
    client = make_client(max_request_bytes=100)
    response = client.post("/test/echo", content=b"x" * 100)
    assert response.status_code == 200
    assert response.json() == {"received": 100}


def test_invalid_input_is_422_with_field_details(client):
    response = client.post("/test/things", json={"name": "", "size": "big"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"name", "size"}
    assert all(detail["message"] for detail in error["details"])


def test_app_errors_keep_their_status_code_and_message(client):
    response = client.get("/test/conflict")
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["message"]) == ("CONFLICT", "already there")


def test_unhandled_exception_is_a_generic_500_in_production(make_client, logs):
    client = make_client(environment="production")
    response = client.get("/test/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "INTERNAL_ERROR",
        "message": "Internal server error",
        "request_id": "boom-1",
    }
    failure = next(r for r in logs() if r["event"] == "unhandled_exception")
    assert failure["request_id"] == "boom-1"
    assert failure["level"] == "error"
    assert "RuntimeError" in failure["exception"]
    assert "Traceback" in failure["exception"]


def test_unhandled_exception_names_the_error_outside_production(client):
    response = client.get("/test/boom")
    assert response.status_code == 500
    assert "RuntimeError" in error_of(response)["message"]


@pytest.mark.parametrize("path", ["/status", "/no/such/path"])
def test_request_id_is_echoed_in_header_and_body(client, path):
    response = client.get(path, headers={"X-Request-ID": "abc-123_X.y"})
    assert response.headers["X-Request-ID"] == "abc-123_X.y"
    if response.status_code >= 400:
        assert error_of(response)["request_id"] == "abc-123_X.y"


@pytest.mark.parametrize("incoming", ["a" * 129, "has space", "semi;colon", "", "a/b"])
def test_malformed_request_id_is_replaced(client, incoming):
    response = client.get("/status", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_each_request_gets_its_own_id(client):
    first = client.get("/status").headers["X-Request-ID"]
    second = client.get("/status").headers["X-Request-ID"]
    assert first != second

"""What only the Flask variant has: WSGI streaming, closing at exit, the sync limiter."""

import io

from flask import session
from limits.storage import MemoryStorage

from {{ cookiecutter.project_slug }}.app import (
    close_resources,
    create_app,
)
from {{ cookiecutter.project_slug }}.core.limiter import RateLimiter

from .conftest import add_test_routes
from .settings import base_settings


def post_streamed(app, body: bytes):
    # No Content-Length: the body is read until the stream ends, as with chunked encoding.
    return app.test_client().post(
        "/test/echo",
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_streamed_body_over_the_limit_is_cut_off():
    app = create_app(base_settings(max_request_bytes=1000))
    add_test_routes(app)
    response = post_streamed(app, b"x" * 5000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_refused_by_its_length_is_read_first_when_it_is_not_huge():
    """The 413 reaches a client still sending; a body past DRAIN_FACTOR x the limit is not read."""
    app = create_app(base_settings(max_request_bytes=1000))
    add_test_routes(app)
    for size, drained in ((3000, True), (5000, False)):
        body = io.BytesIO(b"x" * size)
        response = app.test_client().post("/test/echo", input_stream=body, content_length=size)
        assert response.status_code == 413
        assert (body.tell() == size) is drained, size


def test_chunked_body_over_the_limit_is_413_never_cut_and_parsed():
    """gunicorn marks a chunked body's stream as terminated: werkzeug would stop at the limit
    and hand the view the part it read."""
    app = create_app(base_settings(max_request_bytes=1000))
    add_test_routes(app)
    client = app.test_client()
    chunked = {"Transfer-Encoding": "chunked"}
    for size, status in ((5000, 413), (1001, 413), (1000, 200)):
        body = io.BytesIO(b"x" * size)
        response = client.post("/test/echo", input_stream=body, headers=chunked)
        assert response.status_code == status, size
    assert response.get_json() == {"received": 1000}


def test_streamed_body_within_the_limit_is_read():
    app = create_app(base_settings(max_request_bytes=1000))
    add_test_routes(app)
    assert post_streamed(app, b"x" * 800).get_json() == {"received": 800}


def test_closers_run_once_newest_first():
    app = create_app(base_settings())
    closed = []
    app.extensions["closers"].extend([lambda: closed.append(1), lambda: closed.append(2)])
    close_resources(app)
    close_resources(app)
    assert closed[:2] == [2, 1]
    assert len(closed) == 2


def test_sessions_are_opened_lazily_and_still_work():
    app = create_app(base_settings())

    @app.post("/test/session")
    def remember() -> dict[str, str]:
        session["seen"] = "yes"
        return {}

    @app.get("/test/session")
    def recall() -> dict[str, str | None]:
        return {"seen": session.get("seen")}

    client = app.test_client()
    assert client.get("/status").headers.get("Set-Cookie") is None
    assert client.get("/test/session").get_json() == {"seen": None}
    assert "session=" in client.post("/test/session").headers["Set-Cookie"]
    assert client.get("/test/session").get_json() == {"seen": "yes"}
    client.set_cookie("session", "forged.value.signature")
    assert client.get("/test/session").get_json() == {"seen": None}


class BrokenStorage(MemoryStorage):
    def incr(self, *args, **kwargs):
        raise ConnectionError("storage down")


def test_rate_limiter_fails_open_and_warns_once(logs):
    limiter = RateLimiter("1/minute", BrokenStorage())
    logs()
    assert [limiter.retry_after("client") for _ in range(5)] == [None] * 5
    warnings = [r for r in logs() if r["event"] == "rate_limit_storage_unavailable"]
    assert len(warnings) == 1


def test_rate_limiter_limits():
    limiter = RateLimiter("1/minute")
    assert limiter.retry_after("client") is None
    second = limiter.retry_after("client")
    assert second is not None and second >= 1

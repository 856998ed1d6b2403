"""What only the FastAPI variant has: ASGI streaming, docs, lifespan and the worker class."""

import asyncio
import socket
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from limits.aio.storage import MemoryStorage

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.core import worker
from {{ cookiecutter.project_slug }}.core.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.core.worker import (
    DrainingServer,
    HttpProtocol,
    Worker,
)

from .settings import base_settings


def test_streamed_body_over_the_limit_is_cut_off(make_client):
    client = make_client(max_request_bytes=1000)
    sent = []

    def chunks():
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100

    response = client.post("/test/echo", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def refused_body(declared: int, chunks: int) -> tuple[int, int]:
    """Send a body refused by its Content-Length; (status, chunks the service read)."""
    app = create_app(base_settings(max_request_bytes=1000))
    read = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 500, "more_body": read < chunks}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/test/echo",
        "raw_path": b"/test/echo",
        "query_string": b"",
        "headers": [(b"content-length", str(declared).encode())],
        "client": ("127.0.0.1", 1),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], read


def test_a_refused_body_of_moderate_size_is_read_before_the_413():
    # Closing on a client still sending makes the kernel reset the connection: no 413 seen.
    assert refused_body(declared=3000, chunks=6) == (413, 6)


def test_a_refused_body_far_over_the_limit_is_not_read():
    assert refused_body(declared=1_000_000, chunks=2000) == (413, 0)


def test_too_many_or_too_long_headers_are_431_like_gunicorn_refuses_them(client):
    many = {f"X-Header-{n}": "v" for n in range(120)}
    long = {"X-Long": "a" * 9000}
    for headers in (many, long):
        response = client.get("/status", headers=headers)
        assert response.status_code == 431
        assert response.json()["error"]["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    assert client.get("/status", headers={"X-Fine": "a" * 8000}).status_code == 200


def test_streamed_body_within_the_limit_is_read(make_client):
    client = make_client(max_request_bytes=1000)
    response = client.post("/test/echo", content=iter([b"x" * 400, b"y" * 400]))
    assert response.json() == {"received": 800}


def test_routers_are_labelled_with_their_full_template():
    app = create_app(base_settings())
    router = APIRouter(prefix="/api/v9/widgets")

    @router.get("/{widget_id}")
    async def widget(widget_id: int) -> dict[str, int]:
        return {"id": widget_id}

    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/api/v9/widgets/3").status_code == 200
        assert 'route="/api/v9/widgets/{widget_id}"' in client.get("/metrics").text
        routes = client.get("/api/routes").json()["routes"]
    assert {"method": "GET", "path": "/api/v9/widgets/{widget_id}"} in routes


def test_closers_run_at_shutdown():
    app = create_app(base_settings())
    closed = []

    async def close() -> None:
        closed.append("closed")

    app.state.closers.append(close)
    with TestClient(app):
        assert closed == []
    assert closed == ["closed"]


def test_worker_hides_the_server_header_and_its_own_access_log():
    assert Worker.CONFIG_KWARGS["server_header"] is False
    assert Worker.CONFIG_KWARGS["access_log"] is False


async def plain_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


async def stop_between(before: bytes, after: bytes) -> tuple[bytes, float]:
    """On one connection: send `before` and read its answer, stop the server, send `after`
    once it is draining. What came back after the stop began, and how long the stop took."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = DrainingServer(uvicorn.Config(plain_ok, lifespan="off", log_config=None))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    reader, writer = await asyncio.open_connection(*sock.getsockname())
    if before:
        writer.write(before)
        await reader.readuntil(b"ok")
    while not server.server_state.connections:
        await asyncio.sleep(0.01)
    server.should_exit = True
    stopping = loop.time()
    # Its listeners closed, it answers with this header from now on.
    while (b"connection", b"close") not in server.server_state.default_headers:
        await asyncio.sleep(0.01)
    writer.write(after)
    reply = await reader.read()
    writer.close()
    await asyncio.wait_for(serving, 10)
    sock.close()
    return reply, loop.time() - stopping


# uvicorn's own server closes both connections unread: behind nginx, a 502 now and then on
# every reload or worker recycle.
def test_a_stopping_worker_answers_a_connection_it_had_just_accepted():
    reply, _ = asyncio.run(stop_between(b"", REQUEST))
    assert reply.startswith(b"HTTP/1.1 200"), reply
    assert b"connection: close" in reply.lower()
    assert reply.endswith(b"ok")  # and then closed: read() returned


def test_a_stopping_worker_answers_the_next_request_on_a_kept_alive_connection():
    reply, _ = asyncio.run(stop_between(REQUEST, REQUEST))
    assert reply.startswith(b"HTTP/1.1 200"), reply
    assert b"connection: close" in reply.lower()
    assert reply.endswith(b"ok")


def test_a_stopping_worker_closes_a_silent_connection_after_the_drain(monkeypatch):
    monkeypatch.setattr(worker, "DRAIN_S", 0.1)
    reply, took = asyncio.run(stop_between(b"", b""))
    assert reply == b""
    assert took < 2


async def quiet_connections(*sent: bytes) -> list[tuple[bytes, float]]:
    """Open a connection for each of `sent`, side by side, send it and go quiet: what came
    back on each, and after how long the server closed it."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        plain_ok, lifespan="off", log_config=None, http=HttpProtocol, timeout_keep_alive=1
    )
    server = DrainingServer(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)

    async def quiet(data: bytes) -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        started = loop.time()
        writer.write(data)
        reply = await asyncio.wait_for(reader.read(), 5)
        took = loop.time() - started
        writer.close()
        return reply, took

    results = await asyncio.gather(*(quiet(data) for data in sent))
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    sock.close()
    return results


UNFINISHED = (b"", b"GET / HTTP/1.1\r\nHo")


@pytest.fixture(scope="module")
def quiet() -> dict[bytes, tuple[bytes, float]]:
    """quiet_connections for the tests below, run once: side by side, the connections wait out
    the same timeout."""
    sent = (*UNFINISHED, REQUEST)
    return dict(zip(sent, asyncio.run(quiet_connections(*sent)), strict=True))


def test_a_connection_quiet_before_its_headers_are_in_is_closed(quiet):
    """uvicorn's own protocol holds these open for good."""
    for data in UNFINISHED:
        reply, took = quiet[data]
        assert reply == b"", data
        assert took < 3, data


def test_a_request_is_answered_and_then_its_connection_kept_for_the_keep_alive_time(quiet):
    reply, took = quiet[REQUEST]
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"ok")
    assert took < 3


class BrokenStorage(MemoryStorage):
    async def incr(self, *args, **kwargs):
        raise ConnectionError("storage down")


def test_rate_limiter_fails_open_and_warns_once(logs):
    limiter = RateLimiter("1/minute", BrokenStorage())
    logs()

    async def run() -> list[int | None]:
        return [await limiter.retry_after("client") for _ in range(5)]

    assert asyncio.run(run()) == [None] * 5
    warnings = [r for r in logs() if r["event"] == "rate_limit_storage_unavailable"]
    assert len(warnings) == 1


def test_rate_limiter_recovers_after_the_cooldown():
    limiter = RateLimiter("1/minute")

    async def run() -> list[int | None]:
        return [await limiter.retry_after("client") for _ in range(2)]

    first, second = asyncio.run(run())
    assert first is None
    assert second is not None and second >= 1


def test_the_worker_leaves_the_client_address_to_the_service():
    # uvicorn's proxy headers would replace the peer before core/client_address.py saw it.
    assert Worker.CONFIG_KWARGS["proxy_headers"] is False


def test_x_forwarded_proto_is_believed_from_trusted_proxies_only():
    app = create_app(base_settings(trusted_proxies=["127.0.0.1"]))
    router = APIRouter()

    @router.get("/test/scheme")
    async def scheme(request: Request) -> dict[str, str]:
        return {"scheme": request.url.scheme}

    app.include_router(router)
    headers = {"X-Forwarded-Proto": "https"}
    for peer, expected in (("127.0.0.1", "https"), ("203.0.113.5", "http")):
        with TestClient(app, client=(peer, 50000)) as client:
            assert client.get("/test/scheme", headers=headers).json() == {"scheme": expected}


def test_a_body_that_stops_arriving_is_408_and_closes_the_connection():
    """uvicorn waits for a declared body as long as the connection stays open; the service
    waits REQUEST_READ_TIMEOUT."""
    app = create_app(base_settings(request_read_timeout=0.2))
    router = APIRouter()

    @router.post("/test/body")
    async def body(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app.include_router(router)
    sent: list[MutableMapping[str, Any]] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b'{"na', "more_body": True}
        await asyncio.sleep(3600)  # the rest never comes
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/test/body",
        "raw_path": b"/test/body",
        "query_string": b"",
        "headers": [(b"content-length", b"100")],
        "client": ("127.0.0.1", 1),
    }
    started = time.monotonic()
    asyncio.run(app(scope, receive, send))
    assert time.monotonic() - started < 2
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert orjson.loads(sent[1]["body"])["error"]["code"] == "REQUEST_TIMEOUT"

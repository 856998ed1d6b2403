"""core/worker.py: threads get only requests that arrived whole, in time."""

import http.client
import os
import selectors
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config  # type: ignore[import-untyped]
from gunicorn.workers.gthread import TConn  # type: ignore[import-untyped]

from {{ cookiecutter.project_slug }}.core.errors import (
    RequestTimeoutError,
)
from {{ cookiecutter.project_slug }}.core.worker import (
    BodyDeadline,
    Worker,
    is_complete,
)

from . import early
from .settings import AUTH_ENVIRONMENT, CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
{%- if cookiecutter.database != "none" %}
# A route that reads the body: its read fails at the deadline.
SLOW_REQUEST = b"POST /api/v1/items HTTP/1.1\r\n"
ANSWER = b"HTTP/1.1 408 "
{%- else %}
# No route here reads a body: the deadline hands the request on, it is answered as any other.
SLOW_REQUEST = b"POST /status HTTP/1.1\r\n"
ANSWER = b"HTTP/1.1 405 "
{%- endif %}
SLOW_REQUEST += b"".join(f"{name}: {value}\r\n".encode() for name, value in CREDENTIALS.items())
SLOW_REQUEST += b"Host: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n", None),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab", False),
        (b"POST / HTTP/1.1\r\ncontent-length:4\r\n\r\nabcd", True),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", False),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", True),
        # Over the limit: refused by its length, so nothing to wait for.
        (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", True),
    ],
)
def test_a_request_is_complete_once_its_headers_and_body_are_in(data, complete):
    assert is_complete(data, max_body=100) is complete


def test_a_body_read_waits_only_until_the_deadline_and_then_closes_the_connection():
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"abc")
        req = SimpleNamespace(must_close=False)
        assert BodyDeadline(server, time.monotonic() + 5, req).recv(10) == b"abc"
        assert req.must_close is False
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            BodyDeadline(server, time.monotonic() + 0.2, req).recv(10)
        assert 0.15 < time.monotonic() - started < 2
        assert req.must_close is True
        with pytest.raises(RequestTimeoutError):
            BodyDeadline(server, time.monotonic() - 1, req).recv(10)
        assert server.gettimeout() is None  # the socket is left as gunicorn set it


class Loop:
    """A Worker's event loop driven by hand: no process, no threads; what it would hand a
    thread is kept in `handed`."""

    def __init__(self) -> None:
        worker = object.__new__(Worker)
        worker.cfg = Config()
        worker.alive = True
        worker.sockets = []
        worker.nr_conns = 0
        worker.worker_connections = 10
        worker._accepting = False
        worker.poller = selectors.DefaultSelector()
        worker.pending_conns = deque()
        worker.keepalived_conns = deque()
        worker.lingering = deque()
        worker.read_timeout = 0.3
        worker.max_body = 100
        self.handed: list[Any] = []

        def submit(handle: Any, conn: Any) -> Future[Any]:
            self.handed.append(conn)
            return Future()

        worker.tpool = SimpleNamespace(submit=submit)
        self.worker = worker

    def connect(self) -> tuple[Any, socket.socket]:
        """A connection the worker has accepted, and the client's end of it."""
        server, client = socket.socketpair()
        self.worker.nr_conns += 1
        conn = TConn(self.worker.cfg, server, ("127.0.0.1", 1), ("127.0.0.1", 2))
        self.worker.enqueue_req(conn)
        return conn, client

    def turn(self, timeout: float = 1.0) -> None:
        for key, _ in self.worker.poller.select(timeout):
            key.data(key.fileobj)


def test_the_loop_hands_a_request_on_only_once_it_is_whole():
    loop = Loop()
    conn, client = loop.connect()
    client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    loop.turn()
    assert loop.handed == []
    client.sendall(b"cd")
    loop.turn()
    assert loop.handed == [conn]
    assert conn.parser.unreader.buf.getvalue().endswith(b"\r\n\r\nabcd")
    assert not loop.worker.pending_conns


def test_out_of_time_a_request_goes_on_with_its_headers_or_is_closed_without():
    loop = Loop()
    with_headers, client = loop.connect()
    client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    _, other = loop.connect()
    other.sendall(b"POST / HTTP/1.1\r\nContent-Le")
    loop.turn()
    loop.turn(0.1)
    time.sleep(0.35)
    loop.worker.murder_pending()
    assert loop.handed == [with_headers] and with_headers.incomplete
    assert loop.worker.nr_conns == 1
    assert other.recv(10) == b""  # closed


def test_a_client_that_goes_away_is_closed():
    loop = Loop()
    _, client = loop.connect()
    client.close()
    loop.turn()
    assert (loop.handed, loop.worker.nr_conns, list(loop.worker.pending_conns)) == ([], 0, [])


def test_a_stopping_worker_takes_the_queued_connections_and_closes_its_listener():
    loop = Loop()
    listener = socket.create_server(("127.0.0.1", 0))
    loop.worker.sockets = [listener]
    loop.worker.set_accept_enabled(True)
    address = listener.getsockname()
    clients = [socket.create_connection(address) for _ in range(2)]
    loop.worker.alive = False
    loop.worker.set_accept_enabled(False)
    assert loop.worker.nr_conns == 2 and len(loop.worker.pending_conns) == 2
    assert listener.fileno() == -1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address)
    for client in clients:
        client.close()


def test_a_finished_connection_lingers_without_stopping_the_loop():
    loop = Loop()
    conn, client = loop.connect()
    client.sendall(b"GET / HTTP/1.1\r\n\r\n")
    loop.turn()
    done: Future[Any] = Future()
    done.set_result(False)  # the thread is done with it: close
    loop.worker.finish_request(conn, done)
    assert loop.worker.nr_conns == 0 and list(loop.worker.lingering) == [conn]
    assert client.recv(10) == b""  # the worker's end is shut for writing at once
    client.sendall(b"late bytes")  # read and dropped, no reset
    loop.turn()
    assert list(loop.worker.lingering) == [conn]
    client.close()
    loop.turn()
    assert not loop.worker.lingering
    stuck, _ = loop.connect()
    loop.worker.pending_conns.remove(stuck)
    loop.worker.poller.unregister(stuck.sock)
    loop.worker.finish_request(stuck, done)
    stuck.timeout = time.monotonic() - 1
    loop.worker.murder_pending()
    assert not loop.worker.lingering


def live_status(port: int, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/health/live")
        return connection.getresponse().status
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_early(config: pytest.Config) -> tuple["subprocess.Popen[bytes]", int]:
    """The service under gunicorn with this worker: one process, two threads, started when the
    run begins (tests/early.py), its imports beside the tests before these."""
    port = free_port()
    env = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "REQUEST_READ_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
        **AUTH_ENVIRONMENT,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Ended even in a run stopped before the fixture below.
    config.add_cleanup(proc.kill)
    return proc, port


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[int]:
    """The port of that service once it answers, for the tests below (each leaves it idle, its
    connections closed)."""
    proc, port = early.started(request)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                live_status(port, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_slow_clients_hold_no_thread_and_are_answered_at_the_deadline(served):
    slow = [socket.create_connection(("127.0.0.1", served), timeout=10) for _ in range(8)]
    try:
        for sock in slow:
            sock.sendall(SLOW_REQUEST)
        started = time.monotonic()
        assert live_status(served, timeout=0.5) == 200
        assert time.monotonic() - started < 0.5
        for sock in slow:
            answer = b""
            while chunk := sock.recv(4096):  # to the end: the connection closes
                answer += chunk
            assert answer.startswith(ANSWER), answer[:100]
        assert time.monotonic() - started < 5
    finally:
        for sock in slow:
            sock.close()


def test_a_connection_quiet_before_its_headers_are_in_is_closed(served):
    # Side by side: both wait out the same read timeout.
    quiet: dict[bytes, socket.socket] = {}
    started = time.monotonic()
    for sent in (b"", b"GET /health/live HTTP/1.1\r\nHo"):
        quiet[sent] = socket.create_connection(("127.0.0.1", served), timeout=10)
        quiet[sent].sendall(sent)
    for sent, sock in quiet.items():
        with sock:
            assert sock.recv(64) == b"", sent
            assert time.monotonic() - started < 5, sent

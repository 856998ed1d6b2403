"""core/worker.py: threads get only requests that arrived whole, in time."""

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.project_slug }}.core.errors import (
    RequestTimeoutError,
)
from {{ cookiecutter.project_slug }}.core.worker import (
    BodyDeadline,
    is_complete,
)

ROOT = Path(__file__).resolve().parent.parent
SLOW_REQUEST = (
    b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n{"
)


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


def test_a_body_read_waits_only_until_the_deadline():
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"abc")
        assert BodyDeadline(server, time.monotonic() + 5).recv(10) == b"abc"
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            BodyDeadline(server, time.monotonic() + 0.2).recv(10)
        assert 0.15 < time.monotonic() - started < 2
        with pytest.raises(RequestTimeoutError):
            BodyDeadline(server, time.monotonic() - 1).recv(10)
        assert server.gettimeout() is None  # the socket is left as gunicorn set it


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


@pytest.fixture
def served() -> Iterator[int]:
    """The service under gunicorn with this worker: one process, two threads."""
    port = free_port()
    env = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "REQUEST_READ_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


def test_slow_clients_hold_no_thread_and_get_408(served):
    slow = [socket.create_connection(("127.0.0.1", served), timeout=10) for _ in range(8)]
    try:
        for sock in slow:
            sock.sendall(SLOW_REQUEST)
        started = time.monotonic()
        assert live_status(served, timeout=0.5) == 200
        assert time.monotonic() - started < 0.5
        for sock in slow:
            assert sock.recv(64).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 5
    finally:
        for sock in slow:
            sock.close()


def test_a_connection_quiet_before_its_headers_are_in_is_closed(served):
    for sent in (b"", b"GET /health/live HTTP/1.1\r\nHo"):
        with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(sent)
            assert sock.recv(64) == b"", sent
            assert time.monotonic() - started < 5, sent

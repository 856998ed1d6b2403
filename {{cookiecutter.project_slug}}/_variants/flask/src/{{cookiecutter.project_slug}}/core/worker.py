"""The gunicorn worker class: gthread, except that a thread gets a request only once it has
arrived whole.

gunicorn's gthread worker reads each request in the thread that then serves it, and waits for
its bytes as long as the client keeps the connection open: four connections that send their
headers, `Content-Length: 1000` and one byte hold all four threads, and the service answers
nobody, health probes included. Here the worker's event loop collects each request's headers
and body without blocking, as an async server does, and hands it to a thread only when it is
complete. A request still incomplete REQUEST_READ_TIMEOUT after its first byte goes to a thread
as it is: its body read then fails at once, and the client gets a 408 and a closed connection
(core/handlers.py). A connection whose headers never end is closed.

A buffering proxy in front (nginx, most ingresses) does the same before the service sees the
request; this matters where clients reach gunicorn directly (a PaaS, an opened port).
"""

import errno
import re
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.errors import (
    RequestTimeoutError,
)

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r\n]*chunked", re.IGNORECASE)
_HEADERS_END = b"\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
# What one request may hold in the event loop: gunicorn's header limits plus the body limit.
_HEADER_ROOM = 100 * 8192


def is_complete(data: bytes, max_body: int) -> bool | None:
    """Whether `data` holds all a thread needs: None while the headers have not ended.

    A declared body over the limit is not waited for: the service refuses it by its length.
    """
    end = data.find(_HEADERS_END)
    if end < 0:
        return None
    head = data[: end + 2]
    if _CHUNKED.search(head):
        return data.endswith(_LAST_CHUNK)
    match = _CONTENT_LENGTH.search(head)
    if match is None:
        return True
    length = int(match.group(1))
    return length > max_body or len(data) - end - 4 >= length


class BodyDeadline:
    """The connection's socket as gunicorn's body reader sees it: each read waits at most
    until the request's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeoutError()
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            raise RequestTimeoutError() from None
        finally:
            self.sock.settimeout(None)


class Worker(ThreadWorker):  # type: ignore[misc]
    read_timeout: float = Settings.model_fields["request_read_timeout"].default
    max_body: int = Settings.model_fields["max_request_bytes"].default

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # The application's own settings (core/middleware.py puts them in the Flask config);
        # another app served by this worker (the benchmarks' bare one) gets the defaults.
        config = getattr(self.wsgi, "config", {})
        self.read_timeout = config.get("REQUEST_READ_TIMEOUT", self.read_timeout)
        self.max_body = config.get("MAX_CONTENT_LENGTH") or self.max_body

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if enabled or self.alive:
            return
        # Stopping: gunicorn keeps its listeners open until it exits, and the kernel goes on
        # queueing connections there that nobody accepts, to reset them at exit. Here the
        # connections already queued are taken (and answered with Connection: close) and the
        # listeners closed: later ones are refused, or go to the workers still running (HUP).
        for listener in self.sockets:
            while self.nr_conns < self.worker_connections:
                before = self.nr_conns
                self.accept(listener)  # one queued connection, or none (EAGAIN)
                if self.nr_conns == before:
                    break
            listener.close()

    def enqueue_req(self, conn: Any) -> None:
        if self.cfg.is_ssl or (conn.initialized and conn.parser.unreader.buf.getvalue()):
            # TLS bytes are not HTTP yet; a request already buffered is served at once.
            super().enqueue_req(conn)
            return
        conn.buffered = bytearray()
        conn.deadline = conn.timeout = time.monotonic() + self.read_timeout
        conn.sock.setblocking(False)
        conn.polled = False
        self.pending_conns.append(conn)
        # A kept-alive connection is here because its next request arrived: most often it
        # is all there, and goes to a thread without a turn of the poller.
        self.on_request_bytes(conn)
        if conn.buffered is not None and not conn.polled:
            conn.polled = True
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn)
            )

    def on_request_bytes(self, conn: Any, _sock: Any = None) -> None:
        try:
            data = conn.sock.recv(65536)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return
            data = b""
        if not data:  # the client went away
            self._leave_pending(conn)
            conn.buffered = None
            self.nr_conns -= 1
            conn.close()
            return
        conn.buffered += data
        if (
            is_complete(conn.buffered, self.max_body)
            or len(conn.buffered) > _HEADER_ROOM + self.max_body
        ):
            self._dispatch(conn)

    def murder_pending(self) -> None:
        # A request out of time: with its headers in, a thread answers 408; without, it is
        # closed (gunicorn's own murder_pending closes every connection out of time).
        now = time.monotonic()
        for conn in [c for c in self.pending_conns if c.timeout <= now]:
            buffered = getattr(conn, "buffered", None)
            if buffered and is_complete(buffered, self.max_body) is not None:
                self._dispatch(conn)
        super().murder_pending()

    def _leave_pending(self, conn: Any) -> None:
        self.pending_conns.remove(conn)
        if conn.polled:
            self.poller.unregister(conn.sock)
            conn.polled = False

    def _dispatch(self, conn: Any) -> None:
        self._leave_pending(conn)
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(bytes(conn.buffered))
        conn.buffered = None
        conn.data_ready = True
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> bool:
        # The headers are parsed; the rest of the body (if it did not all arrive in time) is
        # read through the deadline, the next request through the plain socket again.
        unreader = req.unreader
        sock = unreader.sock
        deadline = getattr(conn, "deadline", None) or time.monotonic() + self.read_timeout
        unreader.sock = BodyDeadline(sock, deadline)
        try:
            return bool(super().handle_request(req, conn))
        finally:
            unreader.sock = sock
            conn.deadline = None

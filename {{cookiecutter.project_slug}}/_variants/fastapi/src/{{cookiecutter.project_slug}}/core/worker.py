"""The gunicorn worker class: uvicorn without its Server header and its own access log, that
closes connections gone quiet before their request is in, and a graceful stop that answers the
requests already on their way instead of cutting them off."""

import asyncio
import socket
import sys
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

# How long a stopping worker goes on answering on the connections it has open (each answer
# then closes its connection) before it closes those still idle. A proxy that keeps
# connections alive sends on the ones it uses within milliseconds.
DRAIN_S = 1.0


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which also times out a connection waiting for headers.

    uvicorn arms its keep-alive timeout only after an answer: a connection that never sends,
    or stops halfway through its headers, was held open for good. Here it is closed once it
    has been quiet for that timeout (GUNICORN_KEEPALIVE) before its headers are complete; the
    body then has REQUEST_READ_TIMEOUT (core/middleware.py).
    """

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._time_out_while_waiting()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._time_out_while_waiting()

    def _time_out_while_waiting(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and self.timeout_keep_alive_task is None and not self.transport.is_closing():
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )


class DrainingServer(Server):
    """uvicorn's server, except that stopping cuts off no request already on its way.

    uvicorn stops (gunicorn's HUP, TERM or max_requests) by closing at once every connection
    with no request in progress: one it accepted a moment earlier, whose request is in the
    socket unread, and a kept-alive one on which the client is sending its next request. The
    client gets a reset; behind nginx, a 502 (nginx retries only some requests, never a POST).
    Here the connections already queued on the listeners are taken, then the listeners close
    (on HUP, new connections wait in the socket's backlog for the new workers; on TERM they are
    refused), and for up to DRAIN_S the open connections are still served, every answer with
    `Connection: close`; uvicorn's own shutdown then closes what is left idle and waits for the
    requests in progress.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Connections the kernel queued on the listeners are taken first: a listener closes
        # with its queue reset, and those clients would never reach the service.
        for sock in sockets or []:
            await self.take_queued(sock)
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        # The same list every request's answer takes its default headers from (uvicorn renews
        # it only while serving, and no more now).
        self.server_state.default_headers.append((b"connection", b"close"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_S
        while not self.force_exit and self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await super().shutdown()

    async def take_queued(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            # As uvicorn's own server builds the protocol of each connection it accepts.
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
            )

        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # nothing queued (EAGAIN), or the listener is gone
                return
            await loop.connect_accepted_socket(protocol, connection)


class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        # The service writes one access line per request itself.
        "access_log": False,
        # uvicorn would replace the peer with its own reading of X-Forwarded-For (which skips
        # every trusted-looking entry); core/middleware.py reads the headers instead, as
        # Flask's does, with core/client_address.py.
        "proxy_headers": False,
        "http": HttpProtocol,
    }

    async def _serve(self) -> None:
        # uvicorn-worker's own, with DrainingServer in place of uvicorn's Server.
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

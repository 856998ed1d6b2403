"""The gunicorn worker class: uvicorn without its Server header and its own access log, and a
graceful stop that answers the requests already on their way instead of cutting them off."""

import asyncio
import socket
import sys
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

# How long a stopping worker goes on answering on the connections it has open (each answer
# then closes its connection) before it closes those still idle. A proxy that keeps
# connections alive sends on the ones it uses within milliseconds.
DRAIN_S = 1.0


class DrainingServer(Server):
    """uvicorn's server, except that stopping cuts off no request already on its way.

    uvicorn stops (gunicorn's HUP, TERM or max_requests) by closing at once every connection
    with no request in progress: one it accepted a moment earlier, whose request is in the
    socket unread, and a kept-alive one on which the client is sending its next request. The
    client gets a reset; behind nginx, a 502 (nginx retries only some requests, never a POST).
    Here the listeners close first (new connections wait in the socket's backlog for the new
    workers) and for up to DRAIN_S the open connections are still served, every answer with
    `Connection: close`; uvicorn's own shutdown then closes what is left idle and waits for the
    requests in progress.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
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
    }

    async def _serve(self) -> None:
        # uvicorn-worker's own, with DrainingServer in place of uvicorn's Server.
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

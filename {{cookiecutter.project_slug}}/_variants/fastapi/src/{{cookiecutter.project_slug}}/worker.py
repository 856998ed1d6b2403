"""The gunicorn worker class: uvicorn without its Server header and its own access log, and a
graceful stop that answers the requests on the connections it has just accepted."""

import asyncio
import socket
import sys
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

# How long a stopping worker waits for the first request on a connection it has accepted.
# A proxy writes its request right after connecting, so a few milliseconds are the norm.
FIRST_REQUEST_GRACE_S = 1.0


def awaits_first_request(connection: object) -> bool:
    """An HTTP connection accepted, but whose first request uvicorn has not parsed yet."""
    return getattr(connection, "cycle", False) is None


class DrainingServer(Server):
    """uvicorn's server, except that stopping does not drop connections it has just accepted.

    uvicorn stops (gunicorn's HUP, TERM or max_requests) by closing every connection with no
    request in progress as if it were idle, including one accepted a moment earlier whose
    request is already in the socket, unread: the client gets a reset (behind nginx, a 502)
    for a request it could not know was refused. Here the listeners close first (new
    connections wait in the socket's backlog for the new workers), then those connections get
    up to FIRST_REQUEST_GRACE_S to deliver their request; uvicorn's own shutdown then answers
    it with keep-alive off, like any request in progress, and closes the idle ones.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FIRST_REQUEST_GRACE_S
        # One turn of the loop first: connections accepted in this turn are set up and their
        # requests read before anything is counted.
        await asyncio.sleep(0)
        while (
            not self.force_exit
            and loop.time() < deadline
            and any(awaits_first_request(c) for c in self.server_state.connections)
        ):
            await asyncio.sleep(0.01)
        await super().shutdown()


class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        # The service writes one access line per request itself.
        "access_log": False,
    }

    async def _serve(self) -> None:
        # uvicorn-worker's own, with DrainingServer in place of uvicorn's Server.
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

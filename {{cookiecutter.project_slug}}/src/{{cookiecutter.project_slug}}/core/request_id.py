"""Request IDs: keep a well-formed incoming `X-Request-ID`, otherwise make one.

The current ID lives in a context variable, so every log line written while serving the
request carries it (see `logging.stamp`), in threads and asyncio tasks alike.
"""

import random
import re
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept_or_new(incoming: str | None) -> str:
    """The incoming ID when it is safe to echo and log, else a fresh random one."""
    if incoming and _WELL_FORMED.fullmatch(incoming):
        return incoming
    # 128 random bits, as many as a UUID4: an ID to correlate lines, not a secret, so the
    # random module (reseeded in every forked worker) serves without a system call. The same
    # 32 hex digits as f"{bits:032x}", in a third of the time.
    return random.getrandbits(128).to_bytes(16).hex()


def current() -> str | None:
    return _current.get()


def bind(request_id: str) -> Token[str | None]:
    return _current.set(request_id)


def unbind(token: Token[str | None]) -> None:
    _current.reset(token)

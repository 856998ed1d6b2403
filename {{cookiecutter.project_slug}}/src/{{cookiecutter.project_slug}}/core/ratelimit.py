"""What both frameworks' rate limiters share: exempt paths, in-memory windows, failing open."""

import ipaddress
import math
import threading
import time

import structlog

logger = structlog.get_logger("ratelimit")

# Distinct clients one worker counts per window (MemoryWindows), and the key the rest share.
MAX_CLIENTS = 50_000
OVERFLOW = "<overflow>"


def is_exempt(path: str) -> bool:
    """Probes and scrapes are never limited: a busy client must not make a pod look dead."""
    return path == "/metrics" or path == "/health" or path.startswith("/health/")


def client_key(client: str) -> str:
    """The rate-limit key of a client address: IPv6 clients by their /64.

    A host is usually given a whole /64 and may pick any address in it, so counting each
    address apart would let one client multiply its limit by rotating through them.
    """
    if ":" not in client:
        return client
    try:
        ip = ipaddress.IPv6Address(client)
    except ValueError:
        return client
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def retry_after(reset_time: float) -> int:
    """Whole seconds until the window resets (at least 1), for the Retry-After header."""
    return max(1, math.ceil(reset_time - time.time()))


class FailOpen:
    """After a storage error, let requests through without asking the storage for a second.

    Requests neither fail nor wait on a dead Redis, and the warning is logged at most once
    per second per worker instead of once per request.
    """

    def __init__(self, cooldown: float = 1.0) -> None:
        self.cooldown = cooldown
        self._until = 0.0

    @property
    def skipping(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, error: Exception) -> None:
        self._until = time.monotonic() + self.cooldown
        logger.warning(
            "rate_limit_storage_unavailable",
            error=type(error).__name__,
            detail=str(error),
            retry_in_seconds=self.cooldown,
        )


class MemoryWindows:
    """Fixed-window counts per client in this process.

    limits' own MemoryStorage expires keys from a timer that starts a new thread (or task)
    every 10 ms under load, which costs more than the counting. Here the table holds the
    current window's counts only and is replaced when the next window starts.

    The table holds at most `max_clients` keys (a few MiB): once it is full, clients not yet
    in it share one count for the rest of the window, so no flood of new addresses can grow
    a worker's memory, and none of them goes unlimited.
    """

    def __init__(self, amount: int, seconds: int, max_clients: int = MAX_CLIENTS) -> None:
        self.amount = amount
        self.seconds = seconds
        self.max_clients = max_clients
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; None when within the limit, else when the window resets."""
        window = int(time.time()) // self.seconds
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            counts = self._counts
            if key not in counts and len(counts) >= self.max_clients:
                if OVERFLOW not in counts:
                    logger.warning("rate_limit_table_full", max_clients=self.max_clients)
                key = OVERFLOW
            count = counts[key] = counts.get(key, 0) + 1
        return None if count <= self.amount else float((window + 1) * self.seconds)

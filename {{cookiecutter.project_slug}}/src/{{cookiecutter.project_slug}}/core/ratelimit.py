"""What both frameworks' rate limiters share: exempt paths, in-memory windows, failing open."""

import math
import threading
import time

import structlog

logger = structlog.get_logger("ratelimit")


def is_exempt(path: str) -> bool:
    """Probes and scrapes are never limited: a busy client must not make a pod look dead."""
    return path == "/metrics" or path == "/health" or path.startswith("/health/")


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
    """

    def __init__(self, amount: int, seconds: int) -> None:
        self.amount = amount
        self.seconds = seconds
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; None when within the limit, else when the window resets."""
        window = int(time.time()) // self.seconds
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts[key] = self._counts.get(key, 0) + 1
        return None if count <= self.amount else float((window + 1) * self.seconds)

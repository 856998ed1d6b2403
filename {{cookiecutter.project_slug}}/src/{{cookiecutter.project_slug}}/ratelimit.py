"""What both frameworks' rate limiters share: the exempt paths and failing open."""

import math
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

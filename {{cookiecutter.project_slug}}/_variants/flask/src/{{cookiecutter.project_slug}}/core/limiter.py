"""Per-client rate limiting (fixed window): in memory, or in a `limits` storage."""

import limits
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from {{ cookiecutter.project_slug }}.core.ratelimit import (
    FailOpen,
    MemoryWindows,
    retry_after,
)


class RateLimiter:
    def __init__(self, rate: str, storage: Storage | None = None) -> None:
        self.limit = limits.parse(rate)
        self._memory = MemoryWindows(self.limit.amount, self.limit.get_expiry())
        self._shared = FixedWindowRateLimiter(storage) if storage is not None else None
        self._fail_open = FailOpen()

    def retry_after(self, client: str) -> int | None:
        """None when the client may go on, else the seconds until it may try again."""
        if self._shared is None:
            reset_time = self._memory.hit(client)
            return None if reset_time is None else retry_after(reset_time)
        if self._fail_open.skipping:
            return None
        try:
            if self._shared.hit(self.limit, client):
                return None
            reset_time, _remaining = self._shared.get_window_stats(self.limit, client)
        except Exception as exc:  # storage down: let the request through, say so once
            self._fail_open.failed(exc)
            return None
        return retry_after(reset_time)

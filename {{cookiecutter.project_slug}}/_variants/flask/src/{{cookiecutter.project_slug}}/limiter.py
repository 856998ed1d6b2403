"""Per-client rate limiting with the `limits` library (fixed window)."""

import limits
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from {{ cookiecutter.project_slug }}.ratelimit import FailOpen, retry_after


class RateLimiter:
    def __init__(self, rate: str, storage: Storage | None = None) -> None:
        self.limit = limits.parse(rate)
        self.storage = storage or MemoryStorage()
        self._strategy = FixedWindowRateLimiter(self.storage)
        self._fail_open = FailOpen()

    def retry_after(self, client: str) -> int | None:
        """None when the client may go on, else the seconds until it may try again."""
        if self._fail_open.skipping:
            return None
        try:
            if self._strategy.hit(self.limit, client):
                return None
            reset_time, _remaining = self._strategy.get_window_stats(self.limit, client)
        except Exception as exc:  # storage down: let the request through, say so once
            self._fail_open.failed(exc)
            return None
        return retry_after(reset_time)

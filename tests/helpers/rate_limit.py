"""Bursts against a running service's rate limit that no window boundary can split.

The limit counts in fixed windows (epoch-aligned in a worker's memory, from the first hit in
Redis). A burst that a boundary splits lets more through than the limit, so a test that asks
for a 429 would pass or fail on the clock. The live tests limit per hour, and a burst that
straddles an hour is sent once more: it can straddle at most one boundary an hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

HOUR = 3600
T = TypeVar("T")


def in_one_window(burst: Callable[[], T], seconds: int = HOUR) -> T:
    """`burst()`'s result, from a call that started and ended inside one window."""
    while True:
        window = time.time() // seconds
        result = burst()
        if time.time() // seconds == window:
            return result

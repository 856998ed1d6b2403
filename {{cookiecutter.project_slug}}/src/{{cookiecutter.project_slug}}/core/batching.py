"""Values that every request leaves behind, queued and handled together between requests.

The access log and the metrics both take this route: a request appends a tuple (a deque's
appends and pops are thread-safe, so no lock), and the work on it (rendering, counting) runs
later in one tight loop, where it costs a fraction of what it costs between a request's steps.
"""

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Batch(Generic[T]):
    """A queue drained on the event loop's next turn, where a loop runs in the thread that
    adds; elsewhere `no_loop` is called instead, so that the owner's thread can drain it."""

    def __init__(self, handle: Callable[[list[T]], None], no_loop: Callable[[], None]) -> None:
        self._handle = handle
        self._no_loop = no_loop
        self._queue: deque[T] = deque()
        self._lock = threading.Lock()  # two drains at once could handle items out of order

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: T) -> None:
        self._queue.append(item)
        if len(self._queue) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.drain)
            except RuntimeError:  # no event loop in this thread
                self._no_loop()

    def drain(self) -> None:
        """Hand everything queued so far to `handle`, in the order it was added."""
        with self._lock:
            count = len(self._queue)
            if count:
                pop = self._queue.popleft
                self._handle([pop() for _ in range(count)])

"""Prometheus metrics: request counts and latencies by method, route template and status.

Under gunicorn, `gunicorn.conf.py` sets PROMETHEUS_MULTIPROC_DIR before any worker imports
this module, so every worker writes its samples there and a scrape of any worker returns the
sum of all of them.

Requests are counted in this process first and written to those shared files in batches: by a
background thread every FLUSH_SECONDS, before this worker answers a scrape, and when it exits.
A multiprocess value takes a lock, checks the pid and writes to a memory map on every update,
three times a request; batched, that cost is paid once per second and label set instead. A
scrape can therefore miss up to FLUSH_SECONDS of other workers' requests, which the next
scrape counts; a worker killed with SIGKILL loses at most that much.

A request itself only appends its raw values to a queue (`batching.Batch`). They are counted in
a tight loop on the event loop's next turn, where one runs, and otherwise by that thread or a
scrape: a lock, a bucket search and a table lookup in the middle of each request cost several
times more.
"""

import bisect
import os
import threading
import time
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from {{ cookiecutter.project_slug }}.core.batching import Batch

logger = structlog.get_logger("metrics")

UNMATCHED_ROUTE = "<unmatched>"
# Anything else is "OTHER": a client must not be able to create label values at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0

REQUESTS = Counter("http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    buckets=BUCKETS,
)

Key = tuple[str, str, int]
Observation = tuple[str, str, int, float]  # method, route, status, seconds
# Per label set: [sum of seconds, observations per bucket (the last one is +Inf)].
_pending: dict[Key, list[Any]] = {}
_lock = threading.Lock()
_flusher_pid = 0


def _count(observations: list[Observation]) -> None:
    with _lock:
        for method, route, status, seconds in observations:
            key = (method if method in METHODS else "OTHER", route, status)
            entry = _pending.get(key)
            if entry is None:
                entry = _pending[key] = [0.0, [0] * (len(BUCKETS) + 1)]
                _start_flusher()
            entry[0] += seconds
            # The first bucket with seconds <= its bound.
            entry[1][bisect.bisect_left(BUCKETS, seconds)] += 1


def _start_flusher() -> None:
    """One flushing thread per process; threads do not survive a fork, so check the pid."""
    global _flusher_pid
    pid = os.getpid()
    if _flusher_pid != pid:
        _flusher_pid = pid
        threading.Thread(target=_flush_forever, name="metrics-flush", daemon=True).start()


# Where no event loop runs, the flushing thread counts what is queued before each flush.
_observed: Batch[Observation] = Batch(_count, _start_flusher)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    _observed.add((method, route, status, seconds))


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush()
        except Exception:  # the next flush tries again; the thread must not end
            logger.exception("metrics_flush_failed")


def flush() -> None:
    """Write the requests counted so far to the Prometheus values."""
    global _pending
    _observed.drain()
    with _lock:
        batch, _pending = _pending, {}
    for (method, route, status), (seconds, counts) in batch.items():
        labels = (method, route, str(status))
        REQUESTS.labels(*labels).inc(sum(counts))
        # Histogram has no public way to add many observations at once; its per-bucket
        # values are what `observe` itself updates (the generated tests check the totals).
        histogram = DURATION.labels(*labels)
        histogram._sum.inc(seconds)
        for bucket, count in zip(histogram._buckets, counts, strict=True):
            if count:
                bucket.inc(count)


def render() -> tuple[bytes, str]:
    """The text exposition and its content type."""
    flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        # Process metrics cannot be summed over workers: these describe the one answering.
        ProcessCollector(registry=registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

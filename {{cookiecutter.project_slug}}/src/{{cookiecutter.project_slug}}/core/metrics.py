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

Gauges that describe the present (requests in flight, pools) are sampled by the same flush:
each `sample`d callable sets its gauges there, so they are at most FLUSH_SECONDS old in the
other workers' files and current in the worker that answers the scrape. Every gauge names the
multiprocess mode that makes its sum over workers mean something.
"""

import bisect
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
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

# The sum over live workers; a worker gunicorn saw die is dropped (child_exit).
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
)
# Every worker writes the same 1: their maximum is the one series.
BUILD_INFO = Gauge(
    "service_build_info",
    "The running build: always 1, described by its labels.",
    ["service", "version", "environment"],
    multiprocess_mode="max",
)
LATENCY_OBJECTIVE = Gauge(
    "http_request_duration_objective_seconds",
    "The latency objective (SLOW_REQUEST_MS) that the p99 alert compares with.",
    multiprocess_mode="max",
)


class _Tally:
    """A count that request threads advance without a lock: `advance` is itertools.count's
    own next(), one C call. Only the flush reads it (under `_lock`), and each read advances
    it too, so the reads are subtracted."""

    def __init__(self) -> None:
        self._count = itertools.count()
        self.advance = self._count.__next__
        self._reads = 0

    def value(self) -> int:
        found = next(self._count) - self._reads
        self._reads += 1
        return found


_arrived = _Tally()
_left = _Tally()
# Called by the middleware as a request starts, and as its answer is done.
arrived = _arrived.advance
left = _left.advance
# By name: an app created again (the tests make many) replaces its pools' samplers.
_samplers: dict[str, Callable[[], None]] = {}

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


def describe(service: str, version: str, environment: str, latency_objective: float) -> None:
    """The build's info metric and the latency objective, set once per worker."""
    BUILD_INFO.labels(service, version, environment).set(1)
    LATENCY_OBJECTIVE.set(latency_objective)


def sample(name: str, sampler: Callable[[], None]) -> None:
    """Run `sampler` at every flush: it sets gauges that describe the present (a pool).

    The flushing thread starts now, not at the first request: a worker that has answered
    nothing yet still reports its pools."""
    _samplers[name] = sampler
    _start_flusher()


def flush() -> None:
    """Write the requests counted so far, and fresh samples, to the Prometheus values."""
    global _pending
    _observed.drain()
    with _lock:
        batch, _pending = _pending, {}
        # Left first: a request counted as left has always been counted as arrived.
        done = _left.value()
        IN_FLIGHT.set(_arrived.value() - done)
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
    for name, sampler in list(_samplers.items()):
        try:
            sampler()
        except Exception:  # one broken sampler must not stop the others
            logger.exception("metrics_sample_failed", sampler=name)


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

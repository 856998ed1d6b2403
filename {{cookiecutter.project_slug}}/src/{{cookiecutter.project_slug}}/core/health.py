"""Readiness checks, run concurrently and each bounded by HEALTH_CHECK_TIMEOUT.

A check is a callable that raises (or hangs) when its dependency is unhealthy. The asyncio
runner serves FastAPI, the thread-pool runner serves Flask; both give the same report.

Each run also sets two gauges per check. Their multiprocess mode keeps the most recent value
written by any live worker: the last check made, whichever worker the probe reached.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor, Future, wait
from typing import Any

import structlog
from prometheus_client import Gauge

logger = structlog.get_logger("health")

CHECK_UP = Gauge(
    "readiness_check_up",
    "1 when the last readiness check of this dependency passed, else 0.",
    ["check"],
    multiprocess_mode="livemostrecent",
)
CHECK_DURATION = Gauge(
    "readiness_check_duration_seconds",
    "How long the last readiness check of this dependency took.",
    ["check"],
    multiprocess_mode="livemostrecent",
)

CheckResult = dict[str, Any]


def _result(started: float, error: BaseException | None) -> CheckResult:
    result: CheckResult = {
        "status": "ok" if error is None else "error",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if error is not None:
        result["error"] = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
    return result


async def run_async(
    checks: Mapping[str, Callable[[], Awaitable[object]]], timeout: float
) -> dict[str, CheckResult]:
    async def one(check: Callable[[], Awaitable[object]]) -> CheckResult:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), timeout)
        except Exception as exc:  # any failure means "not ready", never a 500
            return _result(started, exc)
        return _result(started, None)

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    return _logged(dict(zip(checks, results, strict=True)))


def run_in_threads(
    checks: Mapping[str, Callable[[], object]], timeout: float, executor: Executor
) -> dict[str, CheckResult]:
    def one(check: Callable[[], object]) -> CheckResult:
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", never a 500
            return _result(started, exc)
        return _result(started, None)

    started = time.perf_counter()
    futures: dict[str, Future[CheckResult]] = {
        name: executor.submit(one, check) for name, check in checks.items()
    }
    wait(futures.values(), timeout=timeout)
    results: dict[str, CheckResult] = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            # The thread runs on, but the request does not wait for it.
            future.cancel()
            results[name] = _result(started, TimeoutError())
    return _logged(results)


def _logged(results: dict[str, CheckResult]) -> dict[str, CheckResult]:
    for name, result in results.items():
        CHECK_UP.labels(name).set(result["status"] == "ok")
        CHECK_DURATION.labels(name).set(result["latency_ms"] / 1000)
        if result["status"] != "ok":
            logger.warning("health_check_failed", check=name, **result)
    return results


def readiness(results: dict[str, CheckResult]) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /health/ready for these results."""
    ready = all(result["status"] == "ok" for result in results.values())
    return (200 if ready else 503), {"status": "ok" if ready else "unavailable", "checks": results}

"""A small, bounded HTTP load generator for the drills (loopback only).

Runs `concurrency` workers that loop over a request mix until `total` requests
were sent or `seconds` passed, and classifies every outcome, so a drill can say
exactly what a fault cost: which requests were refused before being accepted,
which were accepted and then dropped, and which answered 5xx.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.helpers.credentials import HEADERS

ITEMS = "/api/v1/items"


@dataclass
class Outcome:
    statuses: Counter[int] = field(default_factory=Counter)
    # Connection refused: the request was never accepted (server not listening).
    refused: int = 0
    # No answer even after one retry: reset, closed mid-response, timed out.
    dropped: int = 0
    dropped_examples: list[str] = field(default_factory=list)
    # Request IDs of every attempt that got no answer. A drill checks them against the
    # access log: an ID there was accepted by the service and then lost.
    dropped_ids: list[str] = field(default_factory=list)
    # Attempts retried after the connection closed before any answer, as HTTP clients do
    # with a pooled keep-alive connection the server has just closed.
    retried: int = 0
    written: dict[int, dict] = field(default_factory=dict)
    sent: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        return (
            f"sent={self.sent} statuses={dict(sorted(self.statuses.items()))} "
            f"refused={self.refused} dropped={self.dropped} retried={self.retried} "
            f"written={len(self.written)}"
        )


def item_payload(n: int) -> dict:
    return {"name": f"drill item {n}", "description": f"written by load request {n}"}


def default_mix(with_items: bool) -> list[tuple[str, str]]:
    if not with_items:
        return [("GET", "/status")]
    return [("GET", "/status"), ("GET", ITEMS), ("POST", ITEMS), ("GET", ITEMS), ("POST", ITEMS)]


async def _run(
    base_url: str,
    total: int,
    concurrency: int,
    seconds: float,
    mix: list[tuple[str, str]],
    on_progress: Callable[[int], None] | None,
) -> Outcome:
    outcome = Outcome()
    counter = itertools.count()
    # Unique per run: a drill looks its request IDs up in a log that earlier runs wrote to.
    run_id = secrets.token_hex(4)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(15.0, connect=5.0)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=timeout, headers=HEADERS
    ) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                n = next(counter)
                if n >= total:
                    return
                method, path = mix[n % len(mix)]
                payload = item_payload(n) if method == "POST" else None
                outcome.sent += 1
                response = None
                for attempt in (1, 2):
                    request_id = f"load-{run_id}-{n}-{attempt}"
                    try:
                        response = await client.request(
                            method, path, json=payload, headers={"X-Request-ID": request_id}
                        )
                        break
                    except httpx.ConnectError:
                        outcome.refused += 1
                        await asyncio.sleep(0.05)
                        break
                    except (httpx.TransportError, httpx.TimeoutException) as exc:
                        outcome.dropped_ids.append(request_id)
                        if attempt == 1:
                            outcome.retried += 1
                            continue
                        outcome.dropped += 1
                        if len(outcome.dropped_examples) < 5:
                            outcome.dropped_examples.append(f"{method} {path}: {exc!r}")
                if response is None:
                    continue
                outcome.statuses[response.status_code] += 1
                if method == "POST" and response.status_code == 201:
                    outcome.written[response.json()["id"]] = payload
                if on_progress:
                    on_progress(outcome.sent)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcome


def run_load(
    base_url: str,
    total: int,
    concurrency: int = 32,
    seconds: float = 60.0,
    mix: list[tuple[str, str]] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Outcome:
    return asyncio.run(
        _run(base_url, total, concurrency, seconds, mix or default_mix(True), on_progress)
    )


def missing_items(base_url: str, written: dict[int, dict]) -> list[int]:
    """Ids of written items that cannot be read back exactly as written."""
    missing = []
    with httpx.Client(base_url=base_url, timeout=10, headers=HEADERS) as client:
        for item_id, payload in written.items():
            response = client.get(f"{ITEMS}/{item_id}")
            body = response.json() if response.status_code == 200 else {}
            if any(body.get(k) != v for k, v in payload.items()):
                missing.append(item_id)
    return missing

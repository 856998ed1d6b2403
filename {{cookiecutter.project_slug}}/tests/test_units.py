"""The framework-neutral building blocks, tested directly."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from {{ cookiecutter.project_slug }}.core import health, metrics
from {{ cookiecutter.project_slug }}.core.client_address import (
    ClientAddress,
)
from {{ cookiecutter.project_slug }}.core.errors import (
    RequestValidationFailed,
    code_for_status,
    error_body,
)
from {{ cookiecutter.project_slug }}.core.ratelimit import (
    FailOpen,
    MemoryWindows,
    client_key,
    is_exempt,
    retry_after,
)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client", "hops"),
    [
        ("10.0.0.5", None, "10.0.0.5", 1),
        ("10.0.0.5", "1.2.3.4", "10.0.0.5", 1),  # peer is not a proxy: header ignored
        ("127.0.0.1", "1.2.3.4", "1.2.3.4", 1),
        ("127.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4", 1),  # left-most is the client's own claim
        ("127.0.0.1", "1.2.3.4, 10.1.2.3", "1.2.3.4", 2),  # 10.1.2.3 is the second proxy
        # One proxy: 10.1.2.3 is a client inside the proxies' range, and what it put to the
        # left of its own address is its own claim.
        ("127.0.0.1", "1.2.3.4, 10.1.2.3", "10.1.2.3", 1),
        ("127.0.0.1", "10.1.2.3", "10.1.2.3", 1),  # only proxies: the farthest one
        ("127.0.0.1", "10.1.2.3", "10.1.2.3", 2),  # fewer entries than proxies: the left-most
        ("127.0.0.1", " , ", "127.0.0.1", 1),
        (None, None, "unknown", 1),
        # Only addresses name a client; the walk stops at the last one that was.
        ("127.0.0.1", "not-an-ip", "127.0.0.1", 1),
        ("127.0.0.1", "x" * 300, "127.0.0.1", 1),
        ("127.0.0.1", "not-an-ip, 10.1.2.3", "10.1.2.3", 2),
        ("127.0.0.1", "unknown", "127.0.0.1", 1),
        # Ports are stripped, IPv6 is written one way.
        ("127.0.0.1", "1.2.3.4:5678", "1.2.3.4", 1),
        ("127.0.0.1", "[2001:DB8::1]:443", "2001:db8::1", 1),
        ("127.0.0.1", "2001:db8:0:0::1", "2001:db8::1", 1),
        ("127.0.0.1", "[2001:db8::1", "127.0.0.1", 1),
    ],
)
def test_client_address(peer, forwarded, client, hops):
    resolver = ClientAddress(["127.0.0.1", "10.1.0.0/16"], hops)
    assert resolver.resolve(peer, forwarded) == client


def test_client_address_ignores_unparsable_peers():
    assert ClientAddress(["127.0.0.1"]).resolve("not-an-ip", "1.2.3.4") == "not-an-ip"


def test_client_address_reads_only_the_hops_it_needs():
    # A client cannot make the walk longer by sending many entries.
    forwarded = ", ".join(["junk"] * 10_000 + ["203.0.113.7"])
    assert ClientAddress(["127.0.0.1"]).resolve("127.0.0.1", forwarded) == "203.0.113.7"


@pytest.mark.parametrize(
    ("client", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # same /64, same count
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
        ("unix:socket", "unix:socket"),  # a peer that is no address keeps its own key
    ],
)
def test_rate_limit_keys(client, key):
    assert client_key(client) == key


def test_memory_windows_hold_a_bounded_table():
    windows = MemoryWindows(amount=2, seconds=3600, max_clients=100)
    for number in range(1000):
        windows.hit(f"client-{number}")
    assert len(windows._counts) <= 101
    # Clients already counted keep their own count; the rest share one, and are limited.
    assert windows.hit("client-0") is None
    assert windows.hit("client-0") is not None
    assert windows.hit("client-5000") is not None


def test_async_checks_run_concurrently_and_are_bounded():
    async def slow() -> None:
        await asyncio.sleep(0.3)

    async def broken() -> None:
        raise OSError("refused")

    started = time.monotonic()
    results = asyncio.run(health.run_async({"a": slow, "b": slow, "c": broken}, timeout=0.1))
    assert time.monotonic() - started < 0.3
    assert results["a"]["error"] == results["b"]["error"] == "timeout"
    assert results["c"]["error"] == "OSError"


def test_thread_checks_run_concurrently_and_are_bounded():
    def slow() -> None:
        time.sleep(0.3)

    def fine() -> None:
        return None

    with ThreadPoolExecutor(4) as executor:
        started = time.monotonic()
        results = health.run_in_threads({"a": slow, "b": slow, "ok": fine}, 0.1, executor)
        assert time.monotonic() - started < 0.3
    assert results["a"]["error"] == results["b"]["error"] == "timeout"
    assert results["ok"]["status"] == "ok"


def test_readiness_body():
    assert health.readiness({}) == (200, {"status": "ok", "checks": {}})
    status, body = health.readiness({"db": {"status": "error", "latency_ms": 1.0}})
    assert (status, body["status"]) == (503, "unavailable")


@pytest.mark.parametrize(
    ("path", "exempt"),
    [
        ("/health", True),
        ("/health/ready", True),
        ("/metrics", True),
        ("/healthy", False),
        ("/status", False),
    ],
)
def test_exempt_paths(path, exempt):
    assert is_exempt(path) is exempt


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert retry_after(time.time() - 5) == 1
    assert retry_after(time.time() + 9.2) == 10


def test_fail_open_skips_the_storage_for_the_cooldown():
    fail_open = FailOpen(cooldown=0.05)
    assert not fail_open.skipping
    fail_open.failed(ConnectionError("refused"))
    assert fail_open.skipping
    time.sleep(0.06)
    assert not fail_open.skipping


def test_metrics_in_multiprocess_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    payload, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    assert b"process_cpu_seconds_total" in payload


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "NOT_FOUND"), (413, "PAYLOAD_TOO_LARGE"), (418, "IM_A_TEAPOT"), (599, "ERROR")],
)
def test_codes_for_statuses(status, code):
    assert code_for_status(status) == code


def test_validation_details_drop_the_location_prefix():
    error = RequestValidationFailed.from_errors(
        [
            {"loc": ("body", "tags", 0), "msg": "too long"},
            {"loc": ("name",), "msg": "required"},
        ]
    )
    assert error.status_code == 422
    assert error.details == [
        {"field": "tags.0", "message": "too long"},
        {"field": "name", "message": "required"},
    ]


def test_error_body_leaves_out_empty_details():
    assert error_body("X", "m", "r") == {"error": {"code": "X", "message": "m", "request_id": "r"}}
    assert error_body("X", "m", None, [1])["error"]["details"] == [1]


def test_memory_windows_count_per_key_and_reset_with_the_window(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    windows = MemoryWindows(amount=2, seconds=60)
    assert windows.hit("a") is None
    assert windows.hit("a") is None
    assert windows.hit("a") == 1020.0  # the window 960-1020 is full
    assert windows.hit("b") is None
    now[0] = 1021.0
    assert windows.hit("a") is None


def test_memory_windows_keep_only_the_current_windows_counts(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    windows = MemoryWindows(amount=1, seconds=1)
    for key in "abc":
        windows.hit(key)
    now[0] = 5.0
    windows.hit("d")
    assert windows.hit("e") is None
    assert windows._counts == {"d": 1, "e": 1}  # the old window's counts are gone

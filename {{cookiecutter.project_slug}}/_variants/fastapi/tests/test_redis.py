"""Redis: shared rate limits, readiness and the cache; failing open when Redis is down.

Tests marked `needs_redis` run against the server in REDIS_URL and are skipped without one.
"""

import asyncio
import os
import uuid

import pytest

from {{ cookiecutter.project_slug }}.redis_client.connection import (
    create_cache,
    create_redis,
)

from .settings import base_settings

REDIS_URL = os.environ.get("REDIS_URL", "")
# Nothing listens on port 1: connections are refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set REDIS_URL to test against Redis")


def fresh_prefix() -> str:
    return f"test-{uuid.uuid4().hex}:"


def test_readiness_reports_redis_down(make_client):
    response = make_client(redis_url=DEAD_REDIS, redis_timeout=0.2).get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["status"] == "error"


def test_rate_limiting_fails_open_when_redis_is_down(make_client, logs):
    client = make_client(redis_url=DEAD_REDIS, redis_timeout=0.2, rate_limit="1/hour")
    logs()
    assert [client.get("/status").status_code for _ in range(3)] == [200, 200, 200]
    warnings = [r for r in logs() if r["event"] == "rate_limit_storage_unavailable"]
    assert len(warnings) == 1


def test_cache_misses_when_redis_is_down(logs):
    settings = base_settings(redis_url=DEAD_REDIS, redis_timeout=0.2)

    async def run() -> tuple[object, bool]:
        cache = create_cache(create_redis(settings), settings)
        await cache.delete("k")
        return await cache.get_json("k"), await cache.set_json("k", {"a": 1}, ttl=10)

    assert asyncio.run(run()) == (None, False)
    operations = [r["operation"] for r in logs() if r["event"] == "cache_unavailable"]
    assert operations == ["delete", "get", "set"]


def test_cache_without_redis_always_misses():
    cache = create_cache(None, base_settings())

    async def run() -> tuple[object, bool]:
        await cache.delete("k")
        return await cache.get_json("k"), await cache.set_json("k", 1, ttl=10)

    assert asyncio.run(run()) == (None, False)


@needs_redis
def test_readiness_pings_redis(make_client):
    response = make_client(redis_url=REDIS_URL).get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["status"] == "ok"


@needs_redis
def test_cache_round_trip_with_ttl_and_prefix():
    prefix = fresh_prefix()
    settings = base_settings(redis_url=REDIS_URL, redis_key_prefix=prefix)

    async def run() -> tuple[bool, object, int, object]:
        client = create_redis(settings)
        cache = create_cache(client, settings)
        stored = await cache.set_json("item:1", {"name": "a", "n": [1, 2]}, ttl=30)
        value = await cache.get_json("item:1")
        ttl = await client.ttl(f"{prefix}cache:item:1")
        await cache.delete("item:1")
        gone = await cache.get_json("item:1")
        await client.aclose()
        return stored, value, ttl, gone

    stored, value, ttl, gone = asyncio.run(run())
    assert stored is True
    assert value == {"name": "a", "n": [1, 2]}
    assert 0 < ttl <= 30
    assert gone is None


@needs_redis
def test_rate_limit_is_shared_through_redis(make_client):
    prefix = fresh_prefix()
    first = make_client(redis_url=REDIS_URL, redis_key_prefix=prefix, rate_limit="2/hour")
    second = make_client(redis_url=REDIS_URL, redis_key_prefix=prefix, rate_limit="2/hour")
    assert first.get("/status").status_code == 200
    assert second.get("/status").status_code == 200
    assert first.get("/status").status_code == 429

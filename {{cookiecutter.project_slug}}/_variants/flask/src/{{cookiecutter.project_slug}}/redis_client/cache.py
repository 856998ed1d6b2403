"""A small JSON cache in Redis: values expire after a TTL; Redis down means a miss.

Views find it as `current_app.extensions["cache"]`: try `cache.get_json(key)`, and on None
compute the value and `cache.set_json(key, value, ttl=60)`.
"""

from typing import Any

import orjson
import structlog
from redis import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger("cache")


class Cache:
    def __init__(self, client: Redis | None, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def get_json(self, key: str) -> Any | None:
        """The cached value, or None when absent, expired or Redis is unreachable."""
        if self.client is None:
            return None
        try:
            raw = self.client.get(self.prefix + key)
        except RedisError as exc:
            logger.warning("cache_unavailable", operation="get", error=type(exc).__name__)
            return None
        return None if raw is None else orjson.loads(raw)

    def set_json(self, key: str, value: Any, ttl: int) -> bool:
        """Store a JSON-serialisable value for `ttl` seconds; False when it could not be stored."""
        if self.client is None:
            return False
        try:
            self.client.set(self.prefix + key, orjson.dumps(value), ex=ttl)
        except RedisError as exc:
            logger.warning("cache_unavailable", operation="set", error=type(exc).__name__)
            return False
        return True

    def delete(self, key: str) -> None:
        if self.client is None:
            return
        try:
            self.client.delete(self.prefix + key)
        except RedisError as exc:
            logger.warning("cache_unavailable", operation="delete", error=type(exc).__name__)

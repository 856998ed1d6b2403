"""The Redis client of a worker, shared by the rate limiter, readiness and the cache."""

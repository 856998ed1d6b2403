"""The background jobs on Dramatiq's stub broker, and a real worker where REDIS_URL is given."""

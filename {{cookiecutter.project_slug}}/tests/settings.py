"""Settings for the tests, whatever the framework: a real secret, generous rate limits, and
Redis only where a server is given in REDIS_URL."""

import os
import uuid
from typing import Any

from pydantic import BaseModel, Field

from {{ cookiecutter.project_slug }}.config import (
    METRICS_TOKEN_REQUIRED,
    Settings,
)
{%- if cookiecutter.opentelemetry %}

# The tests export no spans: tests/test_tracing.py reads them in memory instead.
os.environ.setdefault("OTEL_TRACES_EXPORTER", "none")
{%- endif %}

# Random-looking, as production requires (config.MIN_SECRET_BITS); known to everyone, so never
# a real one.
SECRET = "tests-only-Q7vK2mX9pL4wR8nZ3bJ6hF1cD5gT0sY"
METRICS_TOKEN = "m" * 40
# What production needs beyond a secret on this deployment target.
PRODUCTION_EXTRAS: dict[str, Any] = (
    {"metrics_token": METRICS_TOKEN} if METRICS_TOKEN_REQUIRED else {}
)


class Thing(BaseModel):
    """The body of the test-only route that shows validation errors."""

    name: str = Field(min_length=1)
    size: int


def base_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "secret_key": SECRET,
        "rate_limit": "1000/minute",
    }
{%- if cookiecutter.database != "none" %}
    # Set, as production requires: DATABASE_URL (or .env) when given, else the local default.
    values["database_url"] = Settings(environment="test").database_url
{%- endif %}
    if "redis_url" in Settings.model_fields:
        if os.environ.get("REDIS_URL"):
            # A fresh key prefix: counts left by other tests or runs must not carry over.
            values["redis_key_prefix"] = f"test-{uuid.uuid4().hex}:"
        else:
            # Without a Redis server to test against, run as if none was configured.
            values["redis_url"] = ""
    if overrides.get("environment") == "production":
        values |= PRODUCTION_EXTRAS
    return Settings(**(values | overrides))

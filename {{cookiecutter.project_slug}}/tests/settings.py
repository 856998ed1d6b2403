"""Settings for the tests, whatever the framework: a real secret, generous rate limits, and
Redis only where a server is given in REDIS_URL."""

{% if cookiecutter.database != "none" %}import functools
{% endif %}{% if cookiecutter.auth == "api-key" %}import hashlib
{% endif %}import os
import uuid
from typing import Any

from pydantic import BaseModel, Field

from {{ cookiecutter.project_slug }}.config import (
    METRICS_TOKEN_REQUIRED,
    Settings,
)
{%- if cookiecutter.auth == "jwt" %}

from .issuer import AUDIENCE, Issuer
{%- endif %}
{%- if cookiecutter.opentelemetry %}

# The tests export no spans: tests/test_tracing.py reads them in memory instead.
os.environ.setdefault("OTEL_TRACES_EXPORTER", "none")
{%- endif %}

# Random-looking, as production requires (config.MIN_SECRET_BITS); known to everyone, so never
# a real one.
SECRET = "tests-only-Q7vK2mX9pL4wR8nZ3bJ6hF1cD5gT0sY"
METRICS_TOKEN = "m" * 40
{%- if cookiecutter.auth == "api-key" %}
# Every resource's scopes: the tests' main key holds them all (README.md, "Adding a resource").
SCOPES = "items:read items:write"
# Keys known to everyone, so never real ones: one may read and write, one only read.
API_KEY = "tests-only-key-Fh3kQ9zLw2VbN8xRt5Yc"
READ_ONLY_KEY = "tests-only-key-read-Pq7Jm4Ds1Kg6Wn"


def key_entry(name: str, scopes: str, key: str) -> str:
    return f"{name}:{scopes}:{hashlib.sha256(key.encode()).hexdigest()}"


# The settings authentication needs, and the headers a test client sends by default.
AUTH_SETTINGS: dict[str, Any] = {
    "api_keys": [
        key_entry("tests", SCOPES, API_KEY),
        key_entry("reader", "items:read", READ_ONLY_KEY),
    ]
}
CREDENTIALS = {"X-API-Key": API_KEY}
# The same settings in the environment, for a service the tests start as a process.
AUTH_ENVIRONMENT = {"API_KEYS": ",".join(AUTH_SETTINGS["api_keys"])}
{%- elif cookiecutter.auth == "jwt" %}
# Every resource's scopes: the tests' main token holds them all (README.md, "Adding a resource").
SCOPES = "items:read items:write"
# One issuer on 127.0.0.1 for the whole run; its discovery document leads to its keys.
ISSUER = Issuer()
AUTH_SETTINGS: dict[str, Any] = {"auth_issuer": ISSUER.url, "auth_audience": AUDIENCE}
CREDENTIALS = {"Authorization": f"Bearer {ISSUER.token(scope=SCOPES)}"}
AUTH_ENVIRONMENT = {"AUTH_ISSUER": ISSUER.url, "AUTH_AUDIENCE": AUDIENCE}
{%- else %}
AUTH_SETTINGS: dict[str, Any] = {}
CREDENTIALS: dict[str, str] = {}
AUTH_ENVIRONMENT: dict[str, str] = {}
{%- endif %}
# What production needs beyond a secret on this deployment target.
PRODUCTION_EXTRAS: dict[str, Any] = AUTH_SETTINGS | (
    {"metrics_token": METRICS_TOKEN} if METRICS_TOKEN_REQUIRED else {}
)


class Thing(BaseModel):
    """The body of the test-only route that shows validation errors."""

    name: str = Field(min_length=1)
    size: int
{%- if cookiecutter.database != "none" %}


@functools.cache
def environment_settings(database_url: str | None) -> Settings:
    """The settings the environment and .env give, loaded once for each DATABASE_URL a test
    sets: loading them is most of what base_settings costs, and it runs for every app."""
    return Settings(environment="test")
{%- endif %}


def base_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "secret_key": SECRET,
        "rate_limit": "1000/minute",
        **AUTH_SETTINGS,
    }
{%- if cookiecutter.database != "none" %}
    # Set, as production requires: DATABASE_URL (or .env) when given, else the local default.
    values["database_url"] = environment_settings(os.environ.get("DATABASE_URL")).database_url
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

{%- import "services.jinja" as services with context -%}
"""Typed settings, read from the environment (and `.env`), validated at start-up."""

import math
import os
import re
{%- if cookiecutter.background_jobs %}
import tempfile
{%- endif %}
from collections import Counter
from enum import StrEnum
from functools import lru_cache
{%- if cookiecutter.database != "none" %}
from pathlib import Path
{%- endif %}
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
{%- if cookiecutter.auth == "api-key" %}

from {{ cookiecutter.project_slug }}.core.auth.keys import (
    KEY_COMMAND,
    parse_entries,
)
{%- elif cookiecutter.auth == "jwt" %}

from {{ cookiecutter.project_slug }}.core.auth.tokens import (
    ASYMMETRIC_ALGORITHMS,
)
{%- endif %}

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "please-change-me"}
# Words no generated key contains, but a key someone wrote by hand to fill the gap may.
PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "placeholder")
MIN_SECRET_LENGTH = 32
# A key's entropy estimated from its own characters: its length times the Shannon entropy of
# their frequencies. A random key of 32 letters and digits scores about 145 bits, 64 hex digits
# (`openssl rand -hex 32`) about 245; a repeated character scores 0, a repeated word about 90.
MIN_SECRET_BITS = 120
# The passwords this template writes where a server may take them up (compose's default,
# .env.example's): known to anyone who has read it, so production refuses a URL with one.
# The settings that name a server, whose URL may carry a password.
SERVER_URLS = ("database_url", "redis_url")
DEFAULT_PASSWORDS = frozenset({{ services.refused_passwords | sort | tojson }})
# A production CORS origin: scheme, host and optional port, nothing a library could read as a
# pattern (Flask-CORS treats entries with pattern characters as regular expressions).
PLAIN_ORIGIN = re.compile(
    r"https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?"
)
# A PaaS router sends every path to the service, so there only METRICS_TOKEN keeps /metrics and
# the detailed /health from the public; nginx or the ingress denies them on the other targets.
METRICS_TOKEN_REQUIRED = {{ cookiecutter.deployment == "paas" }}
{%- if cookiecutter.background_jobs %}
# The queue the example job is sent to, and the one the worker consumes unless JOBS_QUEUES
# says otherwise.
DEFAULT_QUEUE = "default"
# Queue names as the Redis broker keys them; it reserves the .DQ (delayed) and .XQ (dead
# letters) suffixes for itself.
QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
{%- endif %}
{%- if cookiecutter.auth == "jwt" %}
# An issuer on the same host may be reached over plain HTTP; any other only over https.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
{%- endif %}
{%- if cookiecutter.database != "none" %}
# Where development finds its database: a local one named after the package.
LOCAL_DATABASE = "{{ cookiecutter.project_slug }}"
{%- endif %}

# Comma-separated in the environment (`a,b`), a list in code.
CommaList = Annotated[list[str], NoDecode]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    # A refused value is never echoed: it may be a password (DATABASE_URL) or the secret key.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    secret_key: SecretStr = SecretStr("")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    # None: json everywhere but development, where people read the console.
    log_format: str | None = Field(default=None, pattern="^(json|console)$")
    cors_origins: CommaList = []
    # "<count>/<second|minute|hour|day>"; empty turns rate limiting off.
    rate_limit: str = Field(default="100/minute", pattern=r"^(\d+/(second|minute|hour|day))?$")
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    # Seconds a request may take to arrive (FastAPI: its body, after the headers); then 408
    # and the connection closes: a client that trickles a request holds nothing for long.
    request_read_timeout: float = Field(default=10.0, gt=0)
    slow_request_ms: int = Field(default=1000, gt=0)
    health_check_timeout: float = Field(default=1.0, gt=0)
    # Peers whose X-Forwarded-For is read at all, and how many proxies in a row append to it
    # (core/client_address.py: the client is the entry that many places from the right).
    trusted_proxies: CommaList = ["127.0.0.1", "::1"]
    forwarded_hops: int = Field(default=1, ge=1)
    metrics_enabled: bool = True
    # Empty: /metrics and /health answer anyone who reaches them. Set: only with the bearer token.
    metrics_token: SecretStr = SecretStr("")
{%- if cookiecutter.auth == "api-key" %}
    # API keys as `name:scopes:sha256-hex` entries, comma-separated (core/auth/keys.py):
    # digests only, never a key.
    api_keys: CommaList = []
{%- elif cookiecutter.auth == "jwt" %}
    # The OIDC issuer whose bearer tokens the API accepts (core/auth/tokens.py): its URL as in
    # the tokens' `iss`, the audience they must name, and where its keys are (empty: found
    # through {issuer}/.well-known/openid-configuration).
    auth_issuer: str = ""
    auth_audience: str = ""
    auth_jwks_url: str = ""
    auth_algorithms: CommaList = ["RS256", "ES256"]
    # Seconds of clock difference allowed on exp and nbf.
    auth_leeway: float = Field(default=30.0, ge=0, le=300)
    # Seconds a key-set fetch may take; at most one fetch per AUTH_JWKS_REFETCH_SECONDS when a
    # token names an unknown key; keys are fetched again after AUTH_JWKS_MAX_AGE.
    auth_jwks_timeout: float = Field(default=2.0, gt=0, le=30)
    auth_jwks_refetch_seconds: float = Field(default=30.0, gt=0)
    auth_jwks_max_age: float = Field(default=3600.0, gt=0)
{%- endif %}
{%- if cookiecutter.database != "none" %}
    # Plain 12-factor URLs (postgresql://, mysql://, sqlite:///path) or an explicit driver form.
{%- set default_urls = {
        "sqlite": "sqlite:///./{LOCAL_DATABASE}.db",
        "postgresql": "postgresql://127.0.0.1:5432/{LOCAL_DATABASE}",
        "mysql": "mysql://127.0.0.1:3306/{LOCAL_DATABASE}",
    } %}
    # Development's default; production refuses to start without DATABASE_URL.
    database_url: SecretStr = SecretStr(f"{{ default_urls[cookiecutter.database] }}")
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    # Below MySQL's default wait_timeout (8 h) and most proxies' idle limits.
    db_pool_recycle: int = Field(default=1800, gt=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=5000, ge=0)
    # db/backup.py writes backups here and keeps the newest BACKUP_KEEP of them.
    backup_dir: Path = Path("backups")
    backup_keep: int = Field(default=14, ge=1)
{%- endif %}
{%- if cookiecutter.use_redis %}
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_key_prefix: str = "{{ cookiecutter.__service_name }}:"
    redis_timeout: float = Field(default=1.0, gt=0)
{%- endif %}
{%- if cookiecutter.background_jobs %}
    # Background jobs (the jobs package): what the worker consumes and how.
    jobs_queues: CommaList = [DEFAULT_QUEUE]
    jobs_processes: int = Field(default=2, ge=1)
    jobs_threads: int = Field(default=4, ge=1)
    # Attempts after the first; then the message goes to the dead-letter queue.
    jobs_max_retries: int = Field(default=5, ge=0)
    # Seconds before a retry: doubling from the minimum up to the maximum.
    jobs_min_backoff: float = Field(default=15.0, gt=0)
    jobs_max_backoff: float = Field(default=3600.0, gt=0)
    # Seconds a job may run before it is interrupted (and retried).
    jobs_time_limit: float = Field(default=600.0, gt=0)
    # Seconds a stopping worker gives running jobs; what is still running then is redelivered.
    jobs_shutdown_grace: float = Field(default=30.0, gt=0)
    # Seconds without a heartbeat after which a worker counts as dead and the jobs it held
    # are put back on their queue, and the chance (per million broker commands) that a
    # command looks for such workers: together they bound redelivery after a crash.
    jobs_heartbeat_timeout: float = Field(default=60.0, gt=0)
    jobs_maintenance_chance: int = Field(default=10_000, ge=1, le=1_000_000)
    # Seconds dead letters are kept.
    jobs_dead_letter_ttl: float = Field(default=7 * 86400.0, gt=0)
    # Where the worker serves its Prometheus metrics.
    jobs_metrics_address: str = "127.0.0.1"
    jobs_metrics_port: int = Field(default=9191, ge=0, le=65535)
    # The file each worker process touches while its threads are alive; the liveness check
    # (jobs/health.py) fails once it is older than the max age.
    # Empty: a file named after the service in the temporary directory.
    jobs_liveness_file: str = ""
    jobs_liveness_max_age: float = Field(default=30.0, gt=0)
{%- endif %}
{%- if cookiecutter.opentelemetry %}
    # Tracing: the share of new traces kept (parent-based: a sampled parent is always kept).
    # Everything else is OpenTelemetry's own OTEL_* variables (core/tracing.py).
    trace_sample_ratio: float = Field(default=0.1, ge=0, le=1)
{%- endif %}
{%- if cookiecutter.sentry %}
    # Error tracking (core/sentry.py): nothing is sent while SENTRY_DSN is empty.
    sentry_dsn: SecretStr = SecretStr("")
    # Empty: ENVIRONMENT's value.
    sentry_environment: str = ""
    # The share of requests Sentry traces itself{{ ": none, as OpenTelemetry owns the traces" if cookiecutter.opentelemetry else "" }}.
    sentry_traces_sample_rate: float = {{ "0.0" if cookiecutter.opentelemetry else "0.1" }}
{%- endif %}

    @field_validator(
        "cors_origins",
        "trusted_proxies",
{%- if cookiecutter.auth == "api-key" %}
        "api_keys",
{%- elif cookiecutter.auth == "jwt" %}
        "auth_algorithms",
{%- endif %}
{%- if cookiecutter.background_jobs %}
        "jobs_queues",
{%- endif %}
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

{%- if cookiecutter.background_jobs %}

    @property
    def liveness_path(self) -> str:
        name = "{{ cookiecutter.__service_name }}-worker.alive"
        return self.jobs_liveness_file or os.path.join(tempfile.gettempdir(), name)
{%- endif %}

    @property
    def json_logs(self) -> bool:
        if self.log_format is None:
            return self.environment is not Environment.DEVELOPMENT
        return self.log_format == "json"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if not self.is_production:
            return self
        secret = self.secret_key.get_secret_value()
        lowered = secret.strip().lower()
        if lowered in PLACEHOLDER_SECRETS or any(word in lowered for word in PLACEHOLDER_WORDS):
            raise ValueError("SECRET_KEY must be set to a real secret in production")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production"
            )
        if estimated_bits(secret) < MIN_SECRET_BITS:
            raise ValueError(
                "SECRET_KEY is too predictable for production (repeated characters or words):"
                " use a random one, e.g. `openssl rand -hex 32`"
            )
        for origin in self.cors_origins:
            if not PLAIN_ORIGIN.fullmatch(origin):
                # Origins are public, so naming the refused one gives nothing away.
                raise ValueError(
                    f"CORS_ORIGINS entry {origin!r} is not allowed in production: each must be"
                    " a plain, lower-case http(s)://host[:port] (no *, null, pattern or path)"
                )
        if self.debug:
            raise ValueError("DEBUG must be off in production")
        self._refuse_default_server_urls()
        return self

    def _refuse_default_server_urls(self) -> None:
        # Which of these fields exist depends on the answers (a database, Redis).
        fields = type(self).model_fields
        if "database_url" in fields and "database_url" not in self.model_fields_set:
            raise ValueError("DATABASE_URL must be set in production (no local default there)")
        for name in SERVER_URLS:
            url = getattr(self, name).get_secret_value() if name in fields else ""
            if url and urlsplit(url).password in DEFAULT_PASSWORDS:
                raise ValueError(
                    f"{name.upper()} carries a password this template ships as a default;"
                    " set a real one in production"
                )

{%- if cookiecutter.background_jobs %}

    @model_validator(mode="after")
    def _check_jobs(self) -> "Settings":
        if not self.jobs_queues:
            raise ValueError("JOBS_QUEUES must name at least one queue")
        for queue in self.jobs_queues:
            if not QUEUE_NAME.fullmatch(queue):
                raise ValueError(
                    f"JOBS_QUEUES entry {queue!r} is not a queue name: use up to 64 letters,"
                    " digits, _ or -"
                )
        if self.jobs_min_backoff > self.jobs_max_backoff:
            raise ValueError("JOBS_MIN_BACKOFF must not be larger than JOBS_MAX_BACKOFF")
        return self
{%- endif %}

{%- if cookiecutter.auth == "api-key" %}

    @model_validator(mode="after")
    def _check_api_keys(self) -> "Settings":
        parse_entries(self.api_keys)
        if self.is_production and not self.api_keys:
            raise ValueError(
                "API_KEYS must hold at least one entry in production, or nothing can call the"
                f" API (`{KEY_COMMAND}` makes one)"
            )
        return self
{%- elif cookiecutter.auth == "jwt" %}

    @model_validator(mode="after")
    def _check_token_settings(self) -> "Settings":
        refused = set(self.auth_algorithms) - ASYMMETRIC_ALGORITHMS
        if refused or not self.auth_algorithms:
            raise ValueError(
                "AUTH_ALGORITHMS may name only asymmetric algorithms"
                f" ({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}); refused: {sorted(refused)}"
            )
        if not self.is_production:
            return self
        if not self.auth_issuer or not self.auth_audience:
            raise ValueError("AUTH_ISSUER and AUTH_AUDIENCE must be set in production")
        for name in ("auth_issuer", "auth_jwks_url"):
            url = urlsplit(getattr(self, name))
            if url.netloc and url.scheme != "https" and url.hostname not in LOOPBACK_HOSTS:
                raise ValueError(
                    f"{name.upper()} must be an https:// URL in production (or on this host)"
                )
        return self
{%- endif %}

{%- if cookiecutter.sentry %}

    @model_validator(mode="after")
    def _check_sentry(self) -> "Settings":
        if not 0 <= self.sentry_traces_sample_rate <= 1:
            raise ValueError("SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1")
        dsn = self.sentry_dsn.get_secret_value()
        if dsn:
            # The DSN is not echoed: its key lets anyone send events to the project.
            parts = urlsplit(dsn)
            if (
                parts.scheme not in ("http", "https")
                or not parts.username
                or not parts.hostname
                or not parts.path.rstrip("/").rpartition("/")[2].isdigit()
            ):
                raise ValueError(
                    "SENTRY_DSN is not a Sentry DSN: expected"
                    " https://PUBLIC_KEY@HOST/PROJECT_ID, as the project's settings show it"
                )
        return self
{%- endif %}

    @model_validator(mode="after")
    def _check_metrics_token(self) -> "Settings":
        token = self.metrics_token.get_secret_value()
        if METRICS_TOKEN_REQUIRED and self.is_production and not token:
            raise ValueError(
                "METRICS_TOKEN must be set in production on this target: nothing else keeps "
                "/metrics and /health private (`openssl rand -hex 32` makes one)"
            )
        if token and len(token) < MIN_SECRET_LENGTH:
            raise ValueError(f"METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters")
        return self


def estimated_bits(secret: str) -> float:
    """Length times the Shannon entropy of the characters' frequencies (see MIN_SECRET_BITS)."""
    length = len(secret)
    return -sum(n * math.log2(n / length) for n in Counter(secret).values())


@lru_cache
def get_settings() -> Settings:
    # SECRETS_DIR: a folder of files named after settings (SECRET_KEY, ...), each holding its
    # value, such as a mounted Kubernetes Secret. The environment and .env still win over it.
    secrets_dir = os.environ.get("SECRETS_DIR") or None
    if secrets_dir is not None and not os.path.isdir(secrets_dir):
        raise ValueError(f"SECRETS_DIR={secrets_dir} is not a directory")
    return Settings(_secrets_dir=secrets_dir)

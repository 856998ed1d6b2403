import secrets
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings

from .settings import PRODUCTION_EXTRAS, SECRET

# What production needs, and nothing more.
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "secret_key": SECRET,
{%- if cookiecutter.database != "none" %}
    "database_url": "{{ {"sqlite": "sqlite:////srv/data/app.db", "postgresql": "postgresql://app:s3cr3t-Pw@db.internal:5432/app", "mysql": "mysql://app:s3cr3t-Pw@db.internal:3306/app"}[cookiecutter.database] }}",
{%- endif %}
    **PRODUCTION_EXTRAS,
}


def test_development_accepts_defaults():
    settings = Settings(environment="development", secret_key="")
    assert not settings.is_production


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"secret_key": ""}, "SECRET_KEY"),
        ({"secret_key": "change-me"}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"debug": True}, "DEBUG"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
        # Long enough, but no secret: repeated characters, a repeated word, a placeholder.
        ({"secret_key": "a" * 32}, "SECRET_KEY"),
        ({"secret_key": "s" * 40}, "SECRET_KEY"),
        ({"secret_key": "password" * 4}, "SECRET_KEY"),
        ({"secret_key": "please-change-me-to-a-real-secret-key"}, "SECRET_KEY"),
        # Flask-CORS reads pattern characters as a regular expression; `null` is any sandboxed
        # page or file; a path is no origin.
        ({"cors_origins": ["null"]}, "'null'"),
        ({"cors_origins": ["https://app.example", "https://.*"]}, r"'https://\.\*'"),
        ({"cors_origins": ["https://app.example/"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["https://*.example.com"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["https://App.example"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["ftp://app.example"]}, "CORS_ORIGINS"),
{%- if cookiecutter.database == "postgresql" %}
        ({"database_url": "postgresql://app:compose-only@db:5432/app"}, "DATABASE_URL"),
        ({"database_url": "postgresql://app:password@127.0.0.1:5432/app"}, "DATABASE_URL"),
{%- elif cookiecutter.database == "mysql" %}
        ({"database_url": "mysql://app:compose-only@db:3306/app"}, "DATABASE_URL"),
        ({"database_url": "mysql://app:password@127.0.0.1:3306/app"}, "DATABASE_URL"),
{%- endif %}
{%- if cookiecutter.use_redis %}
        ({"redis_url": "redis://:compose-only@redis:6379/0"}, "REDIS_URL"),
{%- endif %}
    ],
)
def test_production_refuses_unsafe_settings(overrides, setting):
    values = {**PRODUCTION, **overrides}
    with pytest.raises(ValidationError, match=setting):
        Settings(**values)


def test_production_accepts_safe_settings():
    assert Settings(**PRODUCTION).is_production
    origins = ["https://app.example", "http://localhost:3000", "https://a-b.example.co.uk:8443"]
    assert Settings(**PRODUCTION, cors_origins=origins).cors_origins == origins
    # Random keys of the usual kinds pass the entropy floor with room.
    for key in (secrets.token_hex(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)):
        assert Settings(**PRODUCTION | {"secret_key": key}).is_production
{%- if cookiecutter.database != "none" %}


def test_production_needs_its_own_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    values = {key: value for key, value in PRODUCTION.items() if key != "database_url"}
    with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
        Settings(**values, _env_file=None)
    # Development keeps its local default.
    assert Settings(environment="development", _env_file=None).database_url.get_secret_value()
    monkeypatch.setenv("DATABASE_URL", PRODUCTION["database_url"])
    assert Settings(**values, _env_file=None).is_production
{%- endif %}


def test_secrets_are_hidden_from_repr_and_errors():
    settings = Settings(**PRODUCTION)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
{%- if cookiecutter.database in ("postgresql", "mysql") %}
    assert "s3cr3t-Pw" not in repr(settings)
{%- endif %}
    # A field refused, and the whole model refused (pydantic would show every input).
    for bad in ({"rate_limit": "not a rate"}, {"debug": True}):
        with pytest.raises(ValidationError) as refused:
            Settings(**PRODUCTION | bad)
        message = str(refused.value)
        assert SECRET not in message and "not a rate" not in message
{%- if cookiecutter.database in ("postgresql", "mysql") %}
        assert "s3cr3t-Pw" not in message
{%- endif %}


def test_lists_are_read_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1")
    settings = Settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.trusted_proxies == ["10.0.0.1"]


@pytest.mark.parametrize(
    ("environment", "log_format", "json_logs"),
    [
        ("development", None, False),
        ("production", None, True),
        ("test", None, True),
        ("development", "json", True),
        ("staging", "console", False),
    ],
)
def test_log_format_defaults_to_json_outside_development(environment, log_format, json_logs):
    settings = Settings(**PRODUCTION | {"environment": environment, "log_format": log_format})
    assert settings.json_logs is json_logs


@pytest.mark.parametrize("rate_limit", ["100", "ten/minute", "5/fortnight"])
def test_malformed_rate_limit_is_refused(rate_limit):
    with pytest.raises(ValidationError, match="rate_limit"):
        Settings(rate_limit=rate_limit)

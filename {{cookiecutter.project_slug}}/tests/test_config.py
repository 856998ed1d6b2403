import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings

from .settings import PRODUCTION_EXTRAS


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
    ],
)
def test_production_refuses_unsafe_settings(overrides, setting):
    values = {"environment": "production", "secret_key": "s" * 40, **overrides}
    with pytest.raises(ValidationError, match=setting):
        Settings(**values)


def test_production_accepts_safe_settings():
    settings = Settings(environment="production", secret_key="s" * 40, **PRODUCTION_EXTRAS)
    assert settings.is_production


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
    extras = PRODUCTION_EXTRAS if environment == "production" else {}
    settings = Settings(
        environment=environment, secret_key="s" * 40, log_format=log_format, **extras
    )
    assert settings.json_logs is json_logs


@pytest.mark.parametrize("rate_limit", ["100", "ten/minute", "5/fortnight"])
def test_malformed_rate_limit_is_refused(rate_limit):
    with pytest.raises(ValidationError, match="rate_limit"):
        Settings(rate_limit=rate_limit)

import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings


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
    ],
)
def test_production_refuses_unsafe_settings(overrides, setting):
    values = {"environment": "production", "secret_key": "s" * 40, **overrides}
    with pytest.raises(ValidationError, match=setting):
        Settings(**values)


def test_production_accepts_safe_settings():
    assert Settings(environment="production", secret_key="s" * 40).is_production

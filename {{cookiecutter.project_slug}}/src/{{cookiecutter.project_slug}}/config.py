"""Typed settings, read from the environment (and `.env`), validated at start-up."""

from enum import StrEnum
from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "please-change-me"}
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    secret_key: str = ""
    log_level: str = "INFO"
    # None: json everywhere but development, where people read the console.
    log_format: str | None = Field(default=None, pattern="^(json|console)$")

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if not self.is_production:
            return self
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SECRET_KEY must be set to a real secret in production")
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production"
            )
        if self.debug:
            raise ValueError("DEBUG must be off in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

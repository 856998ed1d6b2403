"""The contract's error shape as pydantic models, for the API document (core/errors.py builds
the bodies; tests hold every body the service sends to these)."""

from pydantic import BaseModel, ConfigDict


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class Error(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    request_id: str | None
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """`{"error": {"code", "message", "request_id", "details"?}}`, for every 4xx and 5xx."""

    model_config = ConfigDict(extra="forbid")

    error: Error

"""The example resource's request and response shapes, validated with pydantic."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from {{ cookiecutter.project_slug }}.items.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
)

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)
]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None


class ItemUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("name cannot be null")
        return value


class ItemRead(BaseModel):
    """An item as the API answers it, read from an ORM object or a result row alike."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
{%- if cookiecutter.background_jobs %}
    # When the background job processed the item; null until then.
    processed_at: datetime | None = None
{%- endif %}

"""The example resource's request and response shapes, validated with pydantic."""

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from {{ cookiecutter.project_slug }}.items.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
)

# What a name may hold, checked as sent (so the API document says exactly this): 1 to
# NAME_MAX_LENGTH characters, not all blanks; the blanks around it are then dropped. The
# blanks are named one by one, which every regular-expression engine reads alike.
BLANKS = " \t\n\r"
# No NUL anywhere: PostgreSQL's text cannot hold it (a 500), so every database refuses it (422).
NO_NUL = r"^[^\x00]*$"
Name = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=NAME_MAX_LENGTH, pattern=rf"^[^\x00]*[^\x00{BLANKS}][^\x00]*$"
    ),
    AfterValidator(lambda name: name.strip(BLANKS)),
]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH, pattern=NO_NUL)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None


def _without_default(schema: JsonDict) -> None:
    # A null default is not a value a client may send.
    schema.pop("default", None)


class ItemUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    # Left out, it stays as it is; it cannot be null, so the document offers only a string.
    name: Name | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_without_default)
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

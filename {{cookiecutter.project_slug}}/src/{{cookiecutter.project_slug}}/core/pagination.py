"""The page every list endpoint answers with, whatever the resource: `Page[OrderRead]`."""

from collections.abc import Sequence
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, Field

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# The largest OFFSET every supported database takes (a signed 64-bit integer); past it SQLite's
# driver raised OverflowError, a 500.
MAX_OFFSET = 2**63 - 1

Row = TypeVar("Row", bound=BaseModel)


class PageParams(BaseModel):
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class Page(BaseModel, Generic[Row]):
    items: list[Row]
    limit: int
    offset: int
    total: int

    @classmethod
    def of(cls, rows: Sequence[object], params: PageParams, total: int) -> Self:
        """The page of `rows` (result rows or ORM objects), validated into the row model in one
        call rather than one per row."""
        page = {"items": rows, "limit": params.limit, "offset": params.offset, "total": total}
        return cls.model_validate(page, from_attributes=True)

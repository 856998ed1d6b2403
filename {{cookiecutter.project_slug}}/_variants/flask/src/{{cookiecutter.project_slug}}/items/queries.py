"""Reads for the example resource: prebuilt Core statements, answered as read models.

A read borrows a pooled connection for itself alone. It needs no ORM session: no identity map
to fill, no unit of work to commit, for rows that are only read.
"""

from {{ cookiecutter.project_slug }}.core.errors import NotFoundError
from {{ cookiecutter.project_slug }}.core.pagination import (
    Page,
    PageParams,
)
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import ID_MAX
from {{ cookiecutter.project_slug }}.items.schemas import (
    ItemRead,
)
from {{ cookiecutter.project_slug }}.items.statements import (
    BY_ID,
    COUNT,
    PAGE,
)


class ItemQueries:
    def __init__(self, database: Database) -> None:
        self.database = database

    def page(self, params: PageParams) -> Page[ItemRead]:
        bounds = {"limit": params.limit, "offset": params.offset}
        with self.database.connection() as connection:
            total = (connection.execute(COUNT)).scalar_one()
            rows = (connection.execute(PAGE, bounds)).all()
        return Page[ItemRead].of(rows, params, total)

    def get(self, item_id: int) -> ItemRead:
        row = None
        if 1 <= item_id <= ID_MAX:
            with self.database.connection() as connection:
                row = (connection.execute(BY_ID, {"item_id": item_id})).one_or_none()
        if row is None:
            raise NotFoundError(f"Item {item_id} not found")
        return ItemRead.model_validate(row)

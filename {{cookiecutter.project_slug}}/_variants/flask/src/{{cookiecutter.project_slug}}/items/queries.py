"""Reads for the example resource: prebuilt Core statements, answered as read models.

A read borrows a pooled connection for itself alone. It needs no ORM session: no identity map
to fill, no unit of work to commit, for rows that are only read.
"""

from {{ cookiecutter.project_slug }}.core.pagination import (
    Page,
    PageParams,
)
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import (
    can_exist,
    not_found,
)
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
        if can_exist(item_id):
            with self.database.connection() as connection:
                row = (connection.execute(BY_ID, {"item_id": item_id})).one_or_none()
        if row is None:
            raise not_found(item_id)
        return ItemRead.model_validate(row)

"""Writes for the example resource: prebuilt Core statements, a transaction per write.

Each write runs in a transaction of its own, committed before the method returns, so before
the response is made: a commit that fails becomes a 503, never a 201 for a row that was not
stored. An insert, an update or a delete is one statement, answered from what it wrote: no ORM
object is loaded, tracked and flushed for a row the request only changes.
"""

from typing import Any, cast

from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import (
    can_exist,
    not_found,
)
from {{ cookiecutter.project_slug }}.items.schemas import (
    ItemCreate,
    ItemRead,
    ItemUpdate,
)
from {{ cookiecutter.project_slug }}.items.statements import (
    BY_ID,
    DELETE,
    INSERT,
    UPDATE,
)


class ItemRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, data: ItemCreate) -> ItemRead:
        # Answered from the values it wrote (defaults included) and the key the database gave.
        with self.database.transaction() as connection:
            result = connection.execute(INSERT, data.model_dump())
        written = cast(dict[str, Any], result.last_inserted_params())
        (item_id,) = cast(tuple[int], result.inserted_primary_key)
        return ItemRead.model_validate({**written, "id": item_id})

    def update(self, item_id: int, data: ItemUpdate | ItemCreate) -> ItemRead:
        if not can_exist(item_id):
            raise not_found(item_id)
        # A partial update changes only the fields the client sent; one that sends none
        # changes nothing, not even `updated_at`.
        sent = data.model_dump(exclude_unset=isinstance(data, ItemUpdate))
        with self.database.transaction() as connection:
            if sent:
                connection.execute(UPDATE, {**sent, "item_id": item_id})
            # Read back in the same transaction: the answer is the row as stored.
            row = connection.execute(BY_ID, {"item_id": item_id}).one_or_none()
        if row is None:
            raise not_found(item_id)
        return ItemRead.model_validate(row)

    def delete(self, item_id: int) -> None:
        deleted = 0
        if can_exist(item_id):
            with self.database.transaction() as connection:
                deleted = connection.execute(DELETE, {"item_id": item_id}).rowcount
        if deleted == 0:
            raise not_found(item_id)

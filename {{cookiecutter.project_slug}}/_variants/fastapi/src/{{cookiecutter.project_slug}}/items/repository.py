"""Writes for the example resource, in the request's session: its unit of work."""

from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.project_slug }}.core.errors import NotFoundError
from {{ cookiecutter.project_slug }}.items.models import ID_MAX, Item
from {{ cookiecutter.project_slug }}.items.schemas import (
    ItemCreate,
    ItemRead,
    ItemUpdate,
)
from {{ cookiecutter.project_slug }}.items.statements import (
    INSERT,
)


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: int) -> Item:
        item = await self.session.get(Item, item_id) if 1 <= item_id <= ID_MAX else None
        if item is None:
            raise NotFoundError(f"Item {item_id} not found")
        return item

    async def create(self, data: ItemCreate) -> ItemRead:
        # A Core insert on the session's connection: committed with the session, and answered
        # from the values it wrote (defaults included) and the key the database gave it.
        connection = await self.session.connection()
        result = await connection.execute(INSERT, data.model_dump())
        # One row: one mapping of the values written, and one key.
        written = cast(dict[str, Any], result.last_inserted_params())
        (item_id,) = cast(tuple[int], result.inserted_primary_key)
        return ItemRead.model_validate({**written, "id": item_id})

    async def update(self, item_id: int, data: ItemUpdate | ItemCreate) -> ItemRead:
        item = await self.get(item_id)
        # A partial update changes only the fields the client sent. Keyed, not .items(): the
        # README renames a copy of this folder by replacing "item" everywhere.
        sent = data.model_dump(exclude_unset=isinstance(data, ItemUpdate))
        for field in sent:
            setattr(item, field, sent[field])
        await self.session.flush()
        return ItemRead.model_validate(item)

    async def delete(self, item_id: int) -> None:
        await self.session.delete(await self.get(item_id))
        await self.session.flush()

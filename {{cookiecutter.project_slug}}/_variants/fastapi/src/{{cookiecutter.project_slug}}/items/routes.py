"""The example resource, /api/v1/items: list, read, create, update, delete."""

from typing import Annotated

from fastapi import {{ "APIRouter, BackgroundTasks" if cookiecutter.background_jobs else "APIRouter" }}, Depends, Path, Query, Request, Response, status

{% if cookiecutter.auth != "none" %}from {{ cookiecutter.project_slug }}.core.auth import ResourceScopes
from {{ cookiecutter.project_slug }}.core.auth.guard import require
{% endif %}from {{ cookiecutter.project_slug }}.core.pagination import (
    Page,
    PageParams,
)
{%- if cookiecutter.background_jobs %}
from {{ cookiecutter.project_slug }}.items.jobs import (
    enqueue_processing,
)
{%- endif %}
from {{ cookiecutter.project_slug }}.items.models import (
    ID_MAX,
)
from {{ cookiecutter.project_slug }}.items.queries import (
    ItemQueries,
)
from {{ cookiecutter.project_slug }}.items.repository import (
    ItemRepository,
)
from {{ cookiecutter.project_slug }}.items.schemas import (
    ItemCreate,
    ItemRead,
    ItemUpdate,
)

PREFIX = "/api/v1/items"
{%- if cookiecutter.auth != "none" %}
# Reads need items:read, writes items:write: the one place this resource says so.
SCOPES = ResourceScopes(read="items:read", write="items:write")
router = APIRouter(prefix=PREFIX, tags=["items"], dependencies=[require(SCOPES)])
{%- else %}
router = APIRouter(prefix=PREFIX, tags=["items"])
{%- endif %}


# Both async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request.
async def queries(request: Request) -> ItemQueries:
    return ItemQueries(request.app.state.database)


async def repository(request: Request) -> ItemRepository:
    return ItemRepository(request.app.state.database)


# Reads take a connection for the query alone, each write a transaction of its own, committed
# before the endpoint returns: no dependency with a teardown (a generator), which costs about
# 90 µs a request (docs/benchmarks.md, "writes").
Reads = Annotated[ItemQueries, Depends(queries)]
Items = Annotated[ItemRepository, Depends(repository)]
# An id no row can have is refused (422) and the bounds are in the document.
ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("")
async def list_items(reads: Reads, page: Annotated[PageParams, Query()]) -> Page[ItemRead]:
    return await reads.page(page)


@router.get("/{item_id}")
async def get_item(item_id: ItemId, reads: Reads) -> ItemRead:
    return await reads.get(item_id)


@router.post("", status_code=status.HTTP_201_CREATED)
{%- if cookiecutter.background_jobs %}
async def create_item(
    data: ItemCreate, items: Items, response: Response, background: BackgroundTasks
) -> ItemRead:
    item = await items.create(data)
    response.headers["Location"] = f"{PREFIX}/{item.id}"
    # A background task runs after the write has committed (and the response is sent),
    # in a thread: sending to Redis blocks.
    background.add_task(enqueue_processing, item.id)
    return item
{%- else %}
async def create_item(data: ItemCreate, items: Items, response: Response) -> ItemRead:
    item = await items.create(data)
    response.headers["Location"] = f"{PREFIX}/{item.id}"
    return item
{%- endif %}


@router.put("/{item_id}")
async def replace_item(item_id: ItemId, data: ItemCreate, items: Items) -> ItemRead:
    return await items.update(item_id, data)


@router.patch("/{item_id}")
async def update_item(item_id: ItemId, data: ItemUpdate, items: Items) -> ItemRead:
    return await items.update(item_id, data)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: ItemId, items: Items) -> Response:
    await items.delete(item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""The example resource, /api/v1/items: list, read, create, update, delete."""

from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, Field

{% if cookiecutter.auth != "none" %}from {{ cookiecutter.project_slug }}.core.auth import ResourceScopes
from {{ cookiecutter.project_slug }}.core.auth.guard import require
{% endif %}from {{ cookiecutter.project_slug }}.core.openapi import (
    documented,
)
from {{ cookiecutter.project_slug }}.core.pagination import (
    Page,
    PageParams,
)
from {{ cookiecutter.project_slug }}.core.responses import (
    model_response,
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
blueprint = Blueprint("items", __name__, url_prefix=PREFIX)
{%- if cookiecutter.auth != "none" %}
# Reads need items:read, writes items:write: the one place this resource says so.
SCOPES = ResourceScopes(read="items:read", write="items:write")
blueprint.before_request(require(SCOPES))
{%- endif %}

# pydantic's ValidationError raised here is rendered as the contract's 422 VALIDATION_ERROR.


class ItemPath(BaseModel):
    # An id no row can have is refused (422), as FastAPI's Path(ge=1, le=ID_MAX) refuses it.
    item_id: int = Field(ge=1, le=ID_MAX)


def _item_id(raw: str) -> int:
    return ItemPath.model_validate({"item_id": raw}).item_id


def _body() -> Any:
    # A missing or malformed JSON body validates as None: a 422 that says what was expected.
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes is malformed too
        return None


# Reads take a connection for the query alone, each write a transaction of its own, committed
# before the view returns.
def _reads() -> ItemQueries:
    return ItemQueries(current_app.extensions["database"])


def _writes() -> ItemRepository:
    return ItemRepository(current_app.extensions["database"])


def _created(item: ItemRead) -> Response:
    return model_response(item, 201, {"Location": f"{PREFIX}/{item.id}"})


@blueprint.get("")
@documented(query=PageParams, answer=Page[ItemRead])
def list_items() -> Response:
    page = PageParams.model_validate(request.args.to_dict())
    return model_response(_reads().page(page))


@blueprint.get("/<item_id>")
@documented(path=ItemPath, answer=ItemRead)
def get_item(item_id: str) -> Response:
    return model_response(_reads().get(_item_id(item_id)))


@blueprint.post("")
@documented(body=ItemCreate, answer=ItemRead, status=201)
def create_item() -> Response:
    item = _writes().create(ItemCreate.model_validate(_body()))
{%- if cookiecutter.background_jobs %}
    # After the commit: the worker must find the item.
    enqueue_processing(item.id)
{%- endif %}
    return _created(item)


@blueprint.put("/<item_id>")
@documented(path=ItemPath, body=ItemCreate, answer=ItemRead)
def replace_item(item_id: str) -> Response:
    data = ItemCreate.model_validate(_body())
    return model_response(_writes().update(_item_id(item_id), data))


@blueprint.patch("/<item_id>")
@documented(path=ItemPath, body=ItemUpdate, answer=ItemRead)
def update_item(item_id: str) -> Response:
    data = ItemUpdate.model_validate(_body())
    return model_response(_writes().update(_item_id(item_id), data))


@blueprint.delete("/<item_id>")
@documented(path=ItemPath, status=204)
def delete_item(item_id: str) -> Response:
    _writes().delete(_item_id(item_id))
    return Response(status=204)

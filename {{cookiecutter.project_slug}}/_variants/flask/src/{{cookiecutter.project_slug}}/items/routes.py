"""The example resource, /api/v1/items: list, read, create, update, delete."""

from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

{% if cookiecutter.auth != "none" %}from {{ cookiecutter.project_slug }}.core.auth import ResourceScopes
from {{ cookiecutter.project_slug }}.core.auth.guard import require
{% endif %}from {{ cookiecutter.project_slug }}.core.pagination import (
    Page,
    PageParams,
)
from {{ cookiecutter.project_slug }}.db.session import with_session
{%- if cookiecutter.background_jobs %}
from {{ cookiecutter.project_slug }}.items.jobs import (
    enqueue_processing,
)
{%- endif %}
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


def _body() -> Any:
    # A missing or malformed JSON body validates as None: a 422 that says what was expected.
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes is malformed too
        return None


def _read(item: object) -> dict[str, Any]:
    return ItemRead.model_validate(item).model_dump(mode="json")


@blueprint.get("")
@with_session
def list_items(session: Session) -> dict[str, Any]:
    page = PageParams.model_validate(request.args.to_dict())
    rows, total = ItemRepository(session).page(limit=page.limit, offset=page.offset)
    result = Page[ItemRead].of([ItemRead.model_validate(row) for row in rows], page, total)
    return result.model_dump(mode="json")


@blueprint.get("/<int:item_id>")
@with_session
def get_item(session: Session, item_id: int) -> dict[str, Any]:
    return _read(ItemRepository(session).get(item_id))
{%- if cookiecutter.background_jobs %}


@blueprint.post("")
def create_item() -> tuple[dict[str, Any], int, dict[str, str]]:
    item = _create_item()
    # After the commit: the worker must find the item.
    enqueue_processing(item["id"])
    return item, 201, {"Location": f"{PREFIX}/{item['id']}"}


@with_session
def _create_item(session: Session) -> dict[str, Any]:
    return _read(ItemRepository(session).create(ItemCreate.model_validate(_body())))
{%- else %}


@blueprint.post("")
@with_session
def create_item(session: Session) -> tuple[dict[str, Any], int, dict[str, str]]:
    item = _read(ItemRepository(session).create(ItemCreate.model_validate(_body())))
    return item, 201, {"Location": f"{PREFIX}/{item['id']}"}
{%- endif %}


@blueprint.put("/<int:item_id>")
@with_session
def replace_item(session: Session, item_id: int) -> dict[str, Any]:
    return _read(ItemRepository(session).update(item_id, ItemCreate.model_validate(_body())))


@blueprint.patch("/<int:item_id>")
@with_session
def update_item(session: Session, item_id: int) -> dict[str, Any]:
    return _read(ItemRepository(session).update(item_id, ItemUpdate.model_validate(_body())))


@blueprint.delete("/<int:item_id>")
@with_session
def delete_item(session: Session, item_id: int) -> Response:
    ItemRepository(session).delete(item_id)
    return Response(status=204)

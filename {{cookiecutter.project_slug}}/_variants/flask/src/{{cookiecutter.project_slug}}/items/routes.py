"""The example resource, /api/v1/items: list, read, create, update, delete."""

from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from {{ cookiecutter.project_slug }}.core.pagination import (
    PageParams,
)
from {{ cookiecutter.project_slug }}.core.responses import (
    model_response,
)
from {{ cookiecutter.project_slug }}.db.session import with_session
{%- if cookiecutter.background_jobs %}
from {{ cookiecutter.project_slug }}.items.jobs import (
    enqueue_processing,
)
{%- endif %}
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

# pydantic's ValidationError raised here is rendered as the contract's 422 VALIDATION_ERROR.


def _body() -> Any:
    # A missing or malformed JSON body validates as None: a 422 that says what was expected.
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes is malformed too
        return None


def _reads() -> ItemQueries:
    # Reads take a connection for the query alone; writes share the request's session
    # (`with_session`), committed when the view returns.
    return ItemQueries(current_app.extensions["database"])


def _created(item: ItemRead) -> Response:
    return model_response(item, 201, {"Location": f"{PREFIX}/{item.id}"})


@blueprint.get("")
def list_items() -> Response:
    page = PageParams.model_validate(request.args.to_dict())
    return model_response(_reads().page(page))


@blueprint.get("/<int:item_id>")
def get_item(item_id: int) -> Response:
    return model_response(_reads().get(item_id))
{%- if cookiecutter.background_jobs %}


@blueprint.post("")
def create_item() -> Response:
    item = _create_item()
    # After the commit: the worker must find the item.
    enqueue_processing(item.id)
    return _created(item)


@with_session
def _create_item(session: Session) -> ItemRead:
    return ItemRepository(session).create(ItemCreate.model_validate(_body()))
{%- else %}


@blueprint.post("")
@with_session
def create_item(session: Session) -> Response:
    return _created(ItemRepository(session).create(ItemCreate.model_validate(_body())))
{%- endif %}


@blueprint.put("/<int:item_id>")
@with_session
def replace_item(session: Session, item_id: int) -> Response:
    data = ItemCreate.model_validate(_body())
    return model_response(ItemRepository(session).update(item_id, data))


@blueprint.patch("/<int:item_id>")
@with_session
def update_item(session: Session, item_id: int) -> Response:
    data = ItemUpdate.model_validate(_body())
    return model_response(ItemRepository(session).update(item_id, data))


@blueprint.delete("/<int:item_id>")
@with_session
def delete_item(session: Session, item_id: int) -> Response:
    ItemRepository(session).delete(item_id)
    return Response(status=204)

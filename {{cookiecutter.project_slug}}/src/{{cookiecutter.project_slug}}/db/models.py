"""Every resource's models, imported in one place: Alembic and the tests see the whole schema
through `Base.metadata` here. A new resource adds its models' import to this list."""

from {{ cookiecutter.project_slug }}.db.base import Base
from {{ cookiecutter.project_slug }}.items.models import Item

__all__ = ["Base", "Item"]

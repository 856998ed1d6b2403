"""The example resource's statements, built once as Core statements on its table.

SQLAlchemy caches a statement's compiled SQL under the statement's cache key, which the object
computes once; building the same select in every request paid for the construction and the key
each time. Core rows, unlike ORM objects, skip the identity map and the unit of work: a read
that changes nothing needs neither (docs/benchmarks.md in the template measures both).
"""

from sqlalchemy import bindparam, func, insert, select

from {{ cookiecutter.project_slug }}.items.models import Item

ITEMS = Item.__table__
COUNT = select(func.count()).select_from(ITEMS)
PAGE = select(ITEMS).order_by(ITEMS.c.id).limit(bindparam("limit")).offset(bindparam("offset"))
BY_ID = select(ITEMS).where(ITEMS.c.id == bindparam("item_id"))
# An insert is one statement: the ORM's unit of work (an object, its state, a flush plan) would
# only wrap it. The columns' Python defaults (the timestamps) fill what the client leaves out.
INSERT = insert(Item)

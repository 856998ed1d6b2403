"""The example resource's statements, built once as Core statements on its table.

SQLAlchemy caches a statement's compiled SQL under the statement's cache key, which the object
computes once; building the same select in every request paid for the construction and the key
each time. Core rows, unlike ORM objects, skip the identity map and the unit of work: a read
that changes nothing needs neither (docs/benchmarks.md in the template measures both).
"""

from sqlalchemy import bindparam, delete, func, insert, select, update

from {{ cookiecutter.project_slug }}.items.models import Item

ITEMS = Item.__table__
COUNT = select(func.count()).select_from(ITEMS)
PAGE = select(ITEMS).order_by(ITEMS.c.id).limit(bindparam("limit")).offset(bindparam("offset"))
BY_ID = select(ITEMS).where(ITEMS.c.id == bindparam("item_id"))
# Writes are one statement each: the ORM's unit of work (an object, its state, a flush plan)
# would only wrap them. The columns' Python defaults fill the timestamps the client leaves out:
# both on an insert; `updated_at` on an update, whose SET clause is the columns it is given.
INSERT = insert(Item)
UPDATE = update(Item).where(Item.id == bindparam("item_id"))
DELETE = delete(Item).where(Item.id == bindparam("item_id"))

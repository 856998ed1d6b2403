"""The example job: each item created through the API is processed in the background.

`enqueue_processing` runs after the request's session has committed, so the worker always
finds the item. The job sets `processed_at` once: a redelivered or requeued message finds it
set and changes nothing.
"""

from typing import Any, cast

import dramatiq
import structlog
from sqlalchemy import CursorResult, update

from {{ cookiecutter.project_slug }}.config import (
    DEFAULT_QUEUE,
    get_settings,
)
from {{ cookiecutter.project_slug }}.db.base import utcnow
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items.models import Item
from {{ cookiecutter.project_slug }}.jobs.broker import broker

logger = structlog.get_logger("items.jobs")
# The worker process's database, made on its first job.
_database: Database | None = None


def database() -> Database:
    global _database
    if _database is None:
        _database = Database(get_settings())
    return _database


def mark_processed(db: Database, item_id: int) -> bool:
    """Set the item's processed_at unless it is set already; whether this call set it."""
    with db.session() as session:
        result = session.execute(
            update(Item)
            .where(Item.id == item_id, Item.processed_at.is_(None))
            .values(processed_at=utcnow())
        )
    return cast(CursorResult[Any], result).rowcount == 1


@dramatiq.actor(broker=broker, queue_name=DEFAULT_QUEUE)
def process_item(item_id: int) -> None:
    applied = mark_processed(database(), item_id)
    logger.info("item_processed" if applied else "item_already_processed", item_id=item_id)


def enqueue_processing(item_id: int) -> None:
    """Send the job. A failure to reach Redis is logged, not raised: the item is stored, and
    its null processed_at shows it waits."""
    try:
        process_item.send(item_id)
    except Exception:
        logger.exception("job_enqueue_failed", item_id=item_id)

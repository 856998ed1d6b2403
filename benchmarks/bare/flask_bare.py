"""The bare Flask baseline: the benchmarked paths with no extensions and no settings.

With BARE_DATABASE_URL (a sync SQLAlchemy URL) it also answers the database paths
with the same queries the generated service runs: SELECT 1, and a count plus a page.
"""

import os

from flask import Flask, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
NAME = os.environ.get("BARE_NAME", "bare")
URL = os.environ.get("BARE_DATABASE_URL")
engine = create_engine(URL, pool_pre_ping=True) if URL else None
PAGE = text(
    "SELECT id, name, description, created_at, updated_at FROM items"
    " ORDER BY id LIMIT :limit OFFSET :offset"
)


@app.get("/status")
@app.get("/health/live")
def status() -> dict[str, str]:
    return {"name": NAME, "version": "0.1.0", "environment": "production"}


@app.get("/health/ready")
def ready() -> dict[str, object]:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "checks": {"database": {"status": "ok"}}}


@app.get("/api/v1/items")
def items() -> dict[str, object]:
    limit = request.args.get("limit", 20, type=int)
    offset = request.args.get("offset", 0, type=int)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM items")).scalar_one()
        rows = connection.execute(PAGE, {"limit": limit, "offset": offset}).mappings()
        return {
            "items": [dict(row) for row in rows],
            "limit": limit,
            "offset": offset,
            "total": total,
        }

"""The bare Flask baseline: the benchmarked paths with no extensions and no settings.

With BARE_DATABASE_URL (a sync SQLAlchemy URL) it also answers the database paths
with the same queries the generated service runs: SELECT 1; a count plus a page; one row by
id; and an insert committed in its own transaction.
"""

import os
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import DateTime, bindparam, create_engine, text

app = Flask(__name__)
NAME = os.environ.get("BARE_NAME", "bare")
URL = os.environ.get("BARE_DATABASE_URL")
engine = create_engine(URL, pool_pre_ping=True) if URL else None
PAGE = text(
    "SELECT id, name, description, created_at, updated_at FROM items"
    " ORDER BY id LIMIT :limit OFFSET :offset"
)
ONE = text("SELECT id, name, description, created_at, updated_at FROM items WHERE id = :id")
# The generated side binds its timestamps through the same column type.
INSERT = text(
    "INSERT INTO items (name, description, created_at, updated_at)"
    " VALUES (:name, :description, :created_at, :updated_at) RETURNING id"
).bindparams(
    bindparam("created_at", type_=DateTime(timezone=True)),
    bindparam("updated_at", type_=DateTime(timezone=True)),
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


@app.get("/api/v1/items/<int:item_id>")
def item(item_id: int) -> tuple[dict[str, object], int]:
    with engine.connect() as connection:
        row = connection.execute(ONE, {"id": item_id}).mappings().one_or_none()
    if row is None:
        return {"error": {"code": "NOT_FOUND"}}, 404
    return dict(row), 200


@app.post("/api/v1/items")
def create() -> tuple[dict[str, object], int, dict[str, str]]:
    body = request.get_json()
    now = datetime.now(UTC)
    values = {
        "name": body["name"],
        "description": body.get("description"),
        "created_at": now,
        "updated_at": now,
    }
    with engine.begin() as connection:
        new_id = connection.execute(INSERT, values).scalar_one()
    return {"id": new_id, **values}, 201, {"Location": f"/api/v1/items/{new_id}"}

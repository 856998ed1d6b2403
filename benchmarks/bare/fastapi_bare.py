"""The bare FastAPI baseline: the benchmarked paths with no middleware and no settings.

With BARE_DATABASE_URL (an async SQLAlchemy URL) it also answers the database paths
with the same queries the generated service runs: SELECT 1; a count plus a page; one row by
id; and an insert committed in its own transaction.
"""

import os
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
NAME = os.environ.get("BARE_NAME", "bare")
URL = os.environ.get("BARE_DATABASE_URL")
engine = create_async_engine(URL, pool_pre_ping=True) if URL else None
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
async def status() -> dict[str, str]:
    return {"name": NAME, "version": "0.1.0", "environment": "production"}


@app.get("/health/ready")
async def ready() -> dict[str, object]:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok", "checks": {"database": {"status": "ok"}}}


@app.get("/api/v1/items")
async def items(limit: int = 20, offset: int = 0) -> dict[str, object]:
    async with engine.connect() as connection:
        total = (await connection.execute(text("SELECT count(*) FROM items"))).scalar_one()
        rows = (await connection.execute(PAGE, {"limit": limit, "offset": offset})).mappings()
        return {
            "items": [dict(row) for row in rows],
            "limit": limit,
            "offset": offset,
            "total": total,
        }


@app.get("/api/v1/items/{item_id}")
async def item(item_id: int) -> dict[str, object]:
    async with engine.connect() as connection:
        row = (await connection.execute(ONE, {"id": item_id})).mappings().one_or_none()
    if row is None:
        return JSONResponse({"error": {"code": "NOT_FOUND"}}, status_code=404)
    return dict(row)


@app.post("/api/v1/items", status_code=201)
async def create(request: Request) -> dict[str, object]:
    body = await request.json()
    now = datetime.now(UTC)
    values = {
        "name": body["name"],
        "description": body.get("description"),
        "created_at": now,
        "updated_at": now,
    }
    async with engine.begin() as connection:
        new_id = (await connection.execute(INSERT, values)).scalar_one()
    return {"id": new_id, **values}

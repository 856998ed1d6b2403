"""The bare FastAPI baseline: the benchmarked paths with no middleware and no settings.

With BARE_DATABASE_URL (an async SQLAlchemy URL) it also answers the database paths
with the same queries the generated service runs: SELECT 1, and a count plus a page.
"""

import os

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
NAME = os.environ.get("BARE_NAME", "bare")
URL = os.environ.get("BARE_DATABASE_URL")
engine = create_async_engine(URL, pool_pre_ping=True) if URL else None
PAGE = text(
    "SELECT id, name, description, created_at, updated_at FROM items"
    " ORDER BY id LIMIT :limit OFFSET :offset"
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

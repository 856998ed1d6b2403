"""The bare FastAPI baseline: one JSON endpoint per benchmarked path, no middleware."""

import os
import time

from fastapi import FastAPI

STARTED = time.time()
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
NAME = os.environ.get("BARE_NAME", "bare")


@app.get("/status")
@app.get("/health/live")
async def status() -> dict[str, str]:
    return {"name": NAME, "version": "0.1.0", "environment": "production"}

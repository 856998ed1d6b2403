"""The bare Flask baseline: one JSON endpoint per benchmarked path, no extensions."""

import os

from flask import Flask

app = Flask(__name__)
NAME = os.environ.get("BARE_NAME", "bare")


@app.get("/status")
@app.get("/health/live")
def status() -> dict[str, str]:
    return {"name": NAME, "version": "0.1.0", "environment": "production"}

"""What Sentry needs of FastAPI (core/sentry.py holds the rest): its integrations, an event's
account of a failed request, and the flush as an app's closer."""

import asyncio
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from starlette.types import Scope


def integrations() -> list[Integration]:
    """The framework's, which Sentry's own transactions need; their capture of 5xx answers
    stays off, as `sentry.capture` sends the one event."""
    return [
        StarletteIntegration(failed_request_status_codes=set()),
        FastApiIntegration(failed_request_status_codes=set()),
    ]


def request_of(scope: Scope) -> dict[str, Any]:
    """An event's account of an ASGI request: method, URL, query and headers (the scrubber
    filters the credentials' values); never its body."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    return {
        "method": scope["method"],
        "url": f"{scope['scheme']}://{headers.get('host', '')}{scope['path']}",
        "query_string": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
    }


async def flush_async() -> None:
    """Send the events still queued, off the event loop, as an app's closer."""
    await asyncio.to_thread(sentry_sdk.flush)

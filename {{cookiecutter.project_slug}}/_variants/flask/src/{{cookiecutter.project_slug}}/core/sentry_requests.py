"""What Sentry needs of Flask (core/sentry.py holds the rest): its integration and an
event's account of a failed request."""

from typing import Any

from flask import Request
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.flask import FlaskIntegration


def integrations() -> list[Integration]:
    """The framework's, which Sentry's own transactions need."""
    return [FlaskIntegration(transaction_style="url")]


def request_of(request: Request) -> dict[str, Any]:
    """An event's account of a request: method, URL, query and headers (the scrubber filters
    the credentials' values); never its body."""
    return {
        "method": request.method,
        "url": request.base_url,
        "query_string": request.query_string.decode("latin-1"),
        "headers": dict(request.headers),
    }

"""The guard of a resource's routes: `blueprint.before_request(require(SCOPES))`.

The middleware has already authenticated what the request carries; the guard checks the
scope its method needs, and names the security scheme the API document declares.
"""

from typing import Any

from flask import request

from {{ cookiecutter.project_slug }}.core.auth import (
    ResourceScopes,
    UnauthorizedError,
    check,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    OUTCOME_KEY,
    Principal,
)

# The scheme the API document declares for a guarded route (the names FastAPI gives them).
SECURITY_SCHEMES: dict[str, Any] = {
{%- if cookiecutter.auth == "jwt" %}
    "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
{%- else %}
    "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
{%- endif %}
}


class Guard:
    """A blueprint's before-request hook; core/openapi.py reads its `security_schemes`."""

    security_schemes = SECURITY_SCHEMES

    def __init__(self, scopes: ResourceScopes) -> None:
        self.scopes = scopes

    def __call__(self) -> None:
        needed = self.scopes.for_method(request.method)
        if needed is not None:
            check(request.environ.get(OUTCOME_KEY), needed)


def require(scopes: ResourceScopes) -> Guard:
    return Guard(scopes)


def caller() -> Principal:
    """Who is calling: in a guarded route, or any other that needs to know."""
    outcome = request.environ.get(OUTCOME_KEY)
    if not isinstance(outcome, Principal):
        raise UnauthorizedError(sent=outcome is not None)
    return outcome

"""The guard of a resource's routes: `blueprint.before_request(require(SCOPES))`.

The middleware has already authenticated what the request carries; the guard checks the
scope its method needs.
"""

from collections.abc import Callable

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


def require(scopes: ResourceScopes) -> Callable[[], None]:
    def guard() -> None:
        needed = scopes.for_method(request.method)
        if needed is not None:
            check(request.environ.get(OUTCOME_KEY), needed)

    return guard


def caller() -> Principal:
    """Who is calling: in a guarded route, or any other that needs to know."""
    outcome = request.environ.get(OUTCOME_KEY)
    if not isinstance(outcome, Principal):
        raise UnauthorizedError(sent=outcome is not None)
    return outcome

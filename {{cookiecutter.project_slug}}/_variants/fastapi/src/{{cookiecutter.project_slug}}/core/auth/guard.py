"""The guard of a resource's routes: `APIRouter(..., dependencies=[require(SCOPES)])`.

The middleware has already authenticated what the request carries; the guard checks the
scope its method needs, and declares the security scheme in the OpenAPI document, so /docs
can authorize.
"""

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import {{ "HTTPBearer" if cookiecutter.auth == "jwt" else "APIKeyHeader" }}

from {{ cookiecutter.project_slug }}.core.auth import (
    ResourceScopes,
    UnauthorizedError,
    check,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    OUTCOME_KEY,
    Principal,
)

SECURITY_SCHEME = {{ 'HTTPBearer(bearerFormat="JWT", auto_error=False)' if cookiecutter.auth == "jwt" else 'APIKeyHeader(name="X-API-Key", auto_error=False)' }}
# What the document says; the credentials themselves are read by the middleware.
Declared = Annotated[Any, Security(SECURITY_SCHEME)]


def require(scopes: ResourceScopes) -> Any:
    async def guard(request: Request, _declared: Declared) -> Principal | None:
        needed = scopes.for_method(request.method)
        if needed is None:
            return None
        return check(request.scope.get(OUTCOME_KEY), needed)

    return Depends(guard)


async def caller(request: Request) -> Principal:
    outcome = request.scope.get(OUTCOME_KEY)
    if not isinstance(outcome, Principal):
        raise UnauthorizedError(sent=outcome is not None)
    return outcome


# Who is calling, in a guarded route: `def handler(..., principal: Caller)`.
Caller = Annotated[Principal, Depends(caller)]

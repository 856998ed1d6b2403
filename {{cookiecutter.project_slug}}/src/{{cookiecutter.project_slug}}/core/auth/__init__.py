"""Authentication and scopes for the API routes: the part both frameworks share.

The middleware authenticates whatever credentials a request carries (`keys.credentials`); each
resource declares the scopes its routes need (`ResourceScopes`), and its guard (`guard.py`,
per framework) calls `check`, which answers 401 or 403 in the contract's error shape and logs
why. Operational routes (/health, /status, /metrics) have no guard.
"""

from dataclasses import dataclass

import structlog

from {{ cookiecutter.project_slug }} import SERVICE_NAME
from {{ cookiecutter.project_slug }}.core.errors import (
    AppError,
    ServiceUnavailableError,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    Outcome,
    Principal,
    Refusal,
)

logger = structlog.get_logger("auth")

# Methods that only read; every other needs the write scope. OPTIONS is a CORS preflight,
# which browsers send without credentials.
READ_METHODS = frozenset({"GET", "HEAD"})
OPEN_METHODS = frozenset({"OPTIONS"})
# The scheme a 401 names: no standard one names API keys, so "ApiKey" says which to send.
SCHEME = "{{ "Bearer" if cookiecutter.auth == "jwt" else "ApiKey" }}"


def _challenge(error: str | None = None, scope: str | None = None) -> str:
    """The WWW-Authenticate value (RFC 6750 section 3): an `error` only when credentials
    were sent, and nothing about which check they failed."""
    challenge = f'{SCHEME} realm="{SERVICE_NAME}"'
    if error is not None:
        challenge += f', error="{error}"'
    if scope is not None:
        challenge += f', scope="{scope}"'
    return challenge


class UnauthorizedError(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_message = "Valid credentials are required"

    def __init__(self, sent: bool) -> None:
        super().__init__()
        self.headers = {"WWW-Authenticate": _challenge("invalid_token" if sent else None)}


class ForbiddenError(AppError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "These credentials do not grant the scope this request needs"

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.headers = {"WWW-Authenticate": _challenge("insufficient_scope", scope)}


@dataclass(frozen=True, slots=True)
class ResourceScopes:
    """The scopes a resource's routes need: `read` for GET and HEAD, `write` for the rest."""

    read: str
    write: str

    def for_method(self, method: str) -> str | None:
        if method in READ_METHODS:
            return self.read
        if method in OPEN_METHODS:
            return None
        return self.write


def check(outcome: Outcome, scope: str) -> Principal:
    """The caller, if its credentials hold `scope`; else a 401 or 403, or a 503 when they could
    not be checked (and a log line that says why, never what was sent)."""
    if isinstance(outcome, Principal):
        if scope in outcome.scopes:
            return outcome
        logger.info("auth_refused", status=403, principal=outcome.name, needed=scope)
        raise ForbiddenError(scope)
    if isinstance(outcome, Refusal) and outcome.unavailable:
        # Fail closed: the credentials could not be checked (why is logged where it failed).
        logger.warning("auth_refused", status=503, reason=outcome.reason)
        raise ServiceUnavailableError()
    reason = outcome.reason if isinstance(outcome, Refusal) else "no_credentials"
    logger.info("auth_refused", status=401, reason=reason)
    raise UnauthorizedError(sent=outcome is not None)

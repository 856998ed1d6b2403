"""Who sent a request, as the middleware found it before any view runs.

The middleware asks the authenticator (core/auth/, when the project has one) about the
credentials a request carries, keeps the outcome with the request, and uses it for the rate
limit's key and the access line's `principal`. Views never see a credential: a route's guard
turns the outcome into a `Principal`, a 401 or a 403.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the JWT's `sub` or the API key's name, and its scopes."""

    name: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Credentials that did not authenticate, and why (for the log line, never the answer);
    `unavailable` when they could not be checked (a 503, not a 401)."""

    reason: str
    unavailable: bool = False


# What an authenticator answers when it must do blocking work first (`Credentials.refresh`).
REFRESH_NEEDED = Refusal("keys_needed")
# Where the outcome is kept: a key of the ASGI scope or the WSGI environ.
OUTCOME_KEY = "service.auth"
# Credentials as sent (the raw header value) -> who they belong to, or why not.
Authenticate = Callable[[bytes], Principal | Refusal]
Outcome = Principal | Refusal | None


def rate_limit_key(outcome: Outcome, client_key: str) -> str:
    """An authenticated caller is counted as itself, wherever it calls from; anyone else by
    address (a refused credential counts as none: making one up must not buy a new count)."""
    if isinstance(outcome, Principal):
        return f"principal:{outcome.name}"
    return client_key


def principal_name(outcome: Outcome) -> str | None:
    return outcome.name if isinstance(outcome, Principal) else None


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where a request's credentials are (a header name, lower case) and who checks them.

    `refresh` is blocking work the authenticator may ask for (fetching an issuer's keys): when
    `authenticate` answers REFRESH_NEEDED, run it (off the event loop), then ask again.
    """

    header: bytes
    authenticate: Authenticate
    refresh: Callable[[], None] | None = None

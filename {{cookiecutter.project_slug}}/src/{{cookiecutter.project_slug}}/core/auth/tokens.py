"""Bearer tokens (JWT) from an OIDC issuer: `Authorization: Bearer <token>`, checked with PyJWT.

Only the header is read, never a query string or a cookie. A token passes when its signature
verifies with a key of the issuer's key set (JWKS) under an asymmetric algorithm of the
allow-list (`alg=none` and HMAC never are), and its `iss`, `aud`, `exp` (and `nbf`, when
present) hold within `AUTH_LEEWAY` seconds. Its subject (`sub`) is the principal; its scopes
come from `scope` (space-separated) or `scp` (a list), and from no other claim.

The key set is cached (`IssuerKeys`): a token with a `kid` the cache lacks triggers a fetch at
most once per `AUTH_JWKS_REFETCH_SECONDS`, so made-up `kid`s cannot make the service hammer
the issuer. While the issuer cannot be reached, tokens signed by a cached key still pass; a
token whose key was never fetched gets 503 (fail closed), and the fetch failure is logged.
"""

import json
import math
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt
import structlog
from jwt import PyJWK, PyJWKSet

from {{ cookiecutter.project_slug }}.core.identity import (
    REFRESH_NEEDED,
    Credentials,
    Principal,
    Refusal,
)

if TYPE_CHECKING:
    from {{ cookiecutter.project_slug }}.config import Settings

logger = structlog.get_logger("auth")

HEADER = b"authorization"
# Every asymmetric algorithm PyJWT verifies; AUTH_ALGORITHMS picks from these.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Far beyond any real token, still far below the servers' header limits: not parsed.
MAX_TOKEN_BYTES = 8192
# A key set or discovery document larger than this is no key set.
MAX_DOCUMENT_BYTES = 1024 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"
KEYS_UNAVAILABLE = Refusal("keys_unavailable", unavailable=True)

Fetch = Callable[[str, float], Any]


def fetch_json(url: str, timeout: float) -> Any:
    """GET a JSON document, bounded in time and size."""
    # Only http(s) URLs get here: config.py requires https in production (or this host).
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


class IssuerKeys:
    """The issuer's signing keys by `kid`, fetched when needed and kept for `max_age` seconds.

    Thread-safe: one fetch at a time, and at most one per `refetch_seconds` however many
    requests ask for keys the set lacks.
    """

    def __init__(
        self,
        issuer: str,
        jwks_url: str,
        algorithms: frozenset[str],
        timeout: float,
        refetch_seconds: float,
        max_age: float,
        fetch: Fetch = fetch_json,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_url = jwks_url
        self.algorithms = algorithms
        self.timeout = timeout
        self.refetch_seconds = refetch_seconds
        self.max_age = max_age
        self.fetch = fetch
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -math.inf  # when the set was last fetched whole
        self._tried_at = -math.inf  # when a fetch was last tried
        self._failing = False
        self._fetching = False
        self._lock = threading.Lock()

    def key(self, kid: str) -> PyJWK | Refusal:
        """The key, or REFRESH_NEEDED (call `refresh`, then ask again), or why there is none."""
        now = time.monotonic()
        key = self._keys.get(kid)
        fresh = now - self._fetched_at < self.max_age
        may_fetch = now - self._tried_at >= self.refetch_seconds
        if key is not None and (fresh or not may_fetch):
            return key  # a stale key still serves while the issuer cannot be asked
        if may_fetch or self._fetching:
            # `refresh` fetches, or waits for the fetch under way, which may bring this kid.
            return REFRESH_NEEDED
        if key is not None:
            return key
        return KEYS_UNAVAILABLE if self._failing and not self._keys else Refusal("unknown_kid")

    def refresh(self) -> None:
        """Fetch the key set (discovering its URL first if need be), unless one was tried
        within `refetch_seconds`. On failure the cached keys stay, and the cause is logged."""
        with self._lock:
            now = time.monotonic()
            if now - self._tried_at < self.refetch_seconds:
                return
            self._tried_at = now
            self._fetching = True
            try:
                keys = self._fetch_keys()
            except Exception as exc:  # any failure of the issuer: keep what we have
                self._failing = True
                logger.warning(
                    "jwks_fetch_failed",
                    issuer=self.issuer,
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    cached_keys=len(self._keys),
                )
                return
            finally:
                self._fetching = False
            self._keys, self._fetched_at, self._failing = keys, now, False
            logger.info("jwks_fetched", issuer=self.issuer, keys=sorted(keys))

    def _fetch_keys(self) -> dict[str, PyJWK]:
        if not self.jwks_url:
            discovery = self.fetch(self.issuer + DISCOVERY_PATH, self.timeout)
            uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
            if not isinstance(uri, str) or not uri:
                raise ValueError("the issuer's discovery document names no jwks_uri")
            self.jwks_url = uri
        document = self.fetch(self.jwks_url, self.timeout)
        if not isinstance(document, dict):
            raise ValueError("the key set is not a JSON object")
        # PyJWT skips keys it cannot use; keys for other algorithms (an HMAC secret
        # published by mistake among them) and keys without a kid are dropped here.
        usable = PyJWKSet.from_dict(document).keys
        return {
            key.key_id: key
            for key in usable
            if key.key_id
            and key.algorithm_name in self.algorithms
            and getattr(key, "public_key_use", None) in (None, "sig")
        }


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """`scope` (a space-separated string, RFC 8693) or `scp` (a list, or a string)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        return frozenset(scp.split())
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    return frozenset()


class BearerTokens:
    def __init__(
        self, keys: IssuerKeys, audience: str, algorithms: frozenset[str], leeway: float
    ) -> None:
        self.keys = keys
        self.audience = audience
        self.algorithms = sorted(algorithms)
        self.leeway = leeway

    def authenticate(self, presented: bytes) -> Principal | Refusal:
        scheme, _, token = presented.partition(b" ")
        if scheme.lower() != b"bearer" or not token or len(token) > MAX_TOKEN_BYTES:
            return Refusal("malformed_token")
        try:
            text = token.strip().decode("ascii")
            header = jwt.get_unverified_header(text)
        except (UnicodeDecodeError, jwt.PyJWTError):
            return Refusal("malformed_token")
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.algorithms:
            return Refusal("algorithm_refused")
        if not isinstance(kid, str) or not kid:
            return Refusal("no_kid")
        key = self.keys.key(kid)
        if isinstance(key, Refusal):
            return key
        try:
            claims = jwt.decode(
                text,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.keys.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            return Refusal("expired")
        except jwt.ImmatureSignatureError:
            return Refusal("not_yet_valid")
        except jwt.InvalidAudienceError:
            return Refusal("wrong_audience")
        except jwt.InvalidIssuerError:
            return Refusal("wrong_issuer")
        except jwt.InvalidSignatureError:
            return Refusal("bad_signature")
        except jwt.PyJWTError as exc:
            return Refusal(f"invalid_token:{type(exc).__name__}")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            return Refusal("no_subject")
        return Principal(subject, scopes_of(claims))


def credentials(settings: "Settings") -> Credentials:
    algorithms = frozenset(settings.auth_algorithms)
    keys = IssuerKeys(
        settings.auth_issuer,
        settings.auth_jwks_url,
        algorithms,
        settings.auth_jwks_timeout,
        settings.auth_jwks_refetch_seconds,
        settings.auth_jwks_max_age,
    )
    tokens = BearerTokens(keys, settings.auth_audience, algorithms, settings.auth_leeway)
    return Credentials(HEADER, tokens.authenticate, refresh=keys.refresh)

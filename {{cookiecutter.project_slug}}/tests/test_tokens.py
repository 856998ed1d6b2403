"""Bearer tokens: PyJWT's checks, the key set fetched from a real local issuer and cached."""

import base64
import hashlib
import hmac
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.auth.tokens import (
    KEYS_UNAVAILABLE,
    IssuerKeys,
    scopes_of,
)
from {{ cookiecutter.project_slug }}.core.identity import REFRESH_NEEDED, Refusal

from .issuer import AUDIENCE, Issuer
from .settings import ISSUER, SECRET

GUARDED = "/test/guarded"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def segment(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.fixture
def issuer():
    """An issuer of its own, for the tests that rotate keys or take it down."""
    own = Issuer()
    yield own
    own.close()


@pytest.fixture
def against(make_client):
    def make(issuer: Issuer, **overrides):
        settings = {"auth_issuer": issuer.url, "auth_audience": AUDIENCE} | overrides
        return make_client(credentials={}, **settings)

    return make


def hmac_signed(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """HS256 keyed with `secret`, made by hand: PyJWT itself refuses a public key as one."""
    signed = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{segment(claims)}"
    mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def hostile_tokens(issuer: Issuer) -> dict[str, str]:
    """Tokens that must never pass, by what is wrong with them."""
    good = issuer.token()
    head, body, signature = good.split(".")
    claims = issuer.claims()
    return {
        "alg none": f"{segment({'alg': 'none', 'kid': issuer.kid})}.{segment(claims)}.",
        # Algorithm confusion: HMAC keyed with the issuer's public key.
        "hs256 with the public key": hmac_signed(
            issuer.public_pem(issuer.kid), claims, issuer.kid
        ),
        "expired": issuer.token(exp=int(time.time()) - 3600),
        "not yet valid": issuer.token(nbf=int(time.time()) + 3600),
        "wrong issuer": issuer.token(iss="https://evil.example"),
        "wrong audience": issuer.token(aud="someone-else"),
        "no exp": issuer.token(exp=None),
        "no aud": issuer.token(aud=None),
        "no sub": issuer.token(sub=None),
        "unknown kid": issuer.token(headers={"kid": "no-such-key"}),
        "no kid": jwt.encode(claims, issuer.keys[issuer.kid][1], algorithm="RS256"),
        "tampered claims": f"{head}.{segment({**claims, 'sub': 'admin'})}.{signature}",
        "truncated": good[: len(good) // 2],
        "garbage segments": "a.b.c",
        "bad base64": f"{head}.!!!.{signature}",
        "two segments": f"{head}.{body}",
        "not a jwt": "hello",
    }


@pytest.mark.parametrize("case", list(hostile_tokens(ISSUER)))
def test_hostile_tokens_get_401(make_client, case):
    client = make_client(credentials={})
    response = client.get(GUARDED, headers=bearer(hostile_tokens(ISSUER)[case]))
    assert response.status_code == 401, (case, response.text)
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_leeway_forgives_a_little_clock_difference(make_client):
    client = make_client(credentials={}, auth_leeway=30)
    assert (
        client.get(GUARDED, headers=bearer(ISSUER.token(exp=int(time.time()) - 5))).status_code
        == 200
    )
    assert (
        client.get(GUARDED, headers=bearer(ISSUER.token(exp=int(time.time()) - 60))).status_code
        == 401
    )


def test_only_the_bearer_scheme_and_only_the_header(make_client):
    client = make_client(credentials={})
    token = ISSUER.token()
    assert client.get(GUARDED, headers={"Authorization": f"bEaReR {token}"}).status_code == 200
    for value in (f"Basic {token}", token, "Bearer", "Bearer "):
        assert client.get(GUARDED, headers={"Authorization": value}).status_code == 401
    # A token in the query string or a cookie is never read.
    assert client.get(GUARDED, params={"access_token": token}).status_code == 401
    assert client.get(GUARDED, headers={"Cookie": f"access_token={token}"}).status_code == 401


def test_scopes_come_from_scope_or_scp_only(make_client):
    client = make_client(credentials={})
    assert (
        client.post(
            GUARDED, headers=bearer(ISSUER.token(scope=None, scp=["items:write"]))
        ).status_code
        == 200
    )
    assert (
        client.post(GUARDED, headers=bearer(ISSUER.token(scope="items:read"))).status_code == 403
    )
    smuggled = ISSUER.token(
        scope="items:read", scopes="items:write", roles=["items:write"], permissions="items:write"
    )
    assert client.post(GUARDED, headers=bearer(smuggled)).status_code == 403
    assert scopes_of({"scp": "a b"}) == {"a", "b"}
    assert scopes_of({"scp": ["a", 1]}) == {"a"}
    assert scopes_of({"scope": 7}) == frozenset()


def test_an_es256_key_works_as_well(against, issuer):
    kid = issuer.add_key("ES256")
    client = against(issuer)
    assert client.get(GUARDED, headers=bearer(issuer.token(kid=kid))).json() == {
        "principal": "tests"
    }


def test_rotation_a_new_kid_is_picked_up_and_an_old_one_works_until_removed(against, issuer):
    client = against(issuer, auth_jwks_refetch_seconds=0.1)
    old = issuer.token()
    assert client.get(GUARDED, headers=bearer(old)).status_code == 200
    new_kid = issuer.add_key()
    time.sleep(0.15)
    assert client.get(GUARDED, headers=bearer(issuer.token(kid=new_kid))).status_code == 200
    assert client.get(GUARDED, headers=bearer(old)).status_code == 200
    issuer.published.remove(issuer.kid)
    time.sleep(0.15)
    # The old key is only dropped once the set is fetched again (a token with an unknown kid
    # asks for that, or the set's max age).
    client.get(GUARDED, headers=bearer(issuer.token(headers={"kid": "unknown"})))
    assert client.get(GUARDED, headers=bearer(old)).status_code == 401
    assert client.get(GUARDED, headers=bearer(issuer.token(kid=new_kid))).status_code == 200


def test_unknown_kids_refetch_at_most_once_per_interval(against, issuer):
    client = against(issuer, auth_jwks_refetch_seconds=60)
    assert client.get(GUARDED, headers=bearer(issuer.token())).status_code == 200
    assert issuer.jwks_fetches == 1
    for n in range(20):
        token = issuer.token(headers={"kid": f"made-up-{n}"})
        assert client.get(GUARDED, headers=bearer(token)).status_code == 401
    assert issuer.jwks_fetches == 1


def test_cached_keys_keep_working_while_the_issuer_is_down(against, issuer, logs):
    client = against(issuer, auth_jwks_refetch_seconds=0.1, auth_jwks_max_age=0.1)
    assert client.get(GUARDED, headers=bearer(issuer.token())).status_code == 200
    issuer.down = True
    time.sleep(0.15)
    assert client.get(GUARDED, headers=bearer(issuer.token())).status_code == 200
    assert any(r["event"] == "jwks_fetch_failed" for r in logs())


def test_a_key_that_cannot_be_fetched_gets_503(against, issuer, logs):
    issuer.down = True
    client = against(issuer, auth_jwks_refetch_seconds=60)
    for _ in range(2):
        response = client.get(GUARDED, headers=bearer(issuer.token()))
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    records = logs()
    failures = [r for r in records if r["event"] == "jwks_fetch_failed"]
    assert len(failures) == 1 and failures[0]["error"] == "HTTPError"
    assert [r["status"] for r in records if r["event"] == "auth_refused"] == [503, 503]


def test_an_issuer_that_never_answers_fails_within_the_timeout(make_client):
    # A socket that listens and never accepts: the connection opens, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        client = make_client(
            credentials={},
            auth_issuer=f"http://127.0.0.1:{silent.getsockname()[1]}",
            auth_audience=AUDIENCE,
            auth_jwks_timeout=0.5,
        )
        started = time.monotonic()
        assert client.get(GUARDED, headers=bearer(ISSUER.token())).status_code == 503
        assert time.monotonic() - started < 2


def test_an_explicit_jwks_url_skips_discovery(against, issuer):
    client = against(issuer, auth_jwks_url=f"{issuer.url}/jwks")
    assert client.get(GUARDED, headers=bearer(issuer.token())).status_code == 200


def test_keys_for_other_algorithms_are_dropped():
    documents = {
        "https://issuer.example/.well-known/openid-configuration": {"jwks_uri": "https://k"},
        "https://k": {
            "keys": [
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                ISSUER.jwks()["keys"][0] | {"kid": "rsa"},
                ISSUER.jwks()["keys"][0] | {"kid": "encryption", "use": "enc"},
            ]
        },
    }
    keys = IssuerKeys(
        "https://issuer.example/",
        "",
        frozenset({"RS256"}),
        1,
        60,
        60,
        fetch=lambda url, _timeout: documents[url],
    )
    assert keys.key("rsa") is REFRESH_NEEDED
    keys.refresh()
    assert keys.key("hmac") == Refusal("unknown_kid")
    assert keys.key("encryption") == Refusal("unknown_kid")
    assert keys.key("rsa") is not None and not isinstance(keys.key("rsa"), Refusal)


@pytest.mark.parametrize("document", [{"issuer": "x"}, [], {"jwks_uri": ""}])
def test_a_discovery_document_without_keys_is_a_failure(document):
    keys = IssuerKeys(
        "https://issuer.example",
        "",
        frozenset({"RS256"}),
        1,
        60,
        60,
        fetch=lambda _url, _timeout: document,
    )
    keys.refresh()
    assert keys.key("any") == KEYS_UNAVAILABLE


def test_a_key_set_that_is_no_object_is_a_failure():
    keys = IssuerKeys(
        "https://issuer.example",
        "https://k",
        frozenset({"RS256"}),
        1,
        60,
        60,
        fetch=lambda _url, _timeout: ["not", "a", "set"],
    )
    keys.refresh()
    assert keys.key("any") == KEYS_UNAVAILABLE


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth_issuer": ""}, "AUTH_ISSUER and AUTH_AUDIENCE"),
        ({"auth_audience": ""}, "AUTH_ISSUER and AUTH_AUDIENCE"),
        ({"auth_issuer": "http://login.example.com"}, "AUTH_ISSUER must be an https"),
        ({"auth_jwks_url": "http://login.example.com/jwks"}, "AUTH_JWKS_URL must be an https"),
    ],
)
def test_production_refuses_incomplete_or_plain_http_issuers(overrides, message):
    values: dict[str, Any] = {
        "environment": "production",
        "secret_key": SECRET,
        "auth_issuer": "https://login.example.com/",
        "auth_audience": AUDIENCE,
    }
    assert Settings(**values).is_production
    assert Settings(**values | {"auth_issuer": "http://127.0.0.1:8080"}).is_production
    with pytest.raises(ValidationError, match=message):
        Settings(**values | overrides)


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,none", ""])
def test_only_asymmetric_algorithms_are_allowed(algorithms):
    with pytest.raises(ValidationError, match="AUTH_ALGORITHMS"):
        Settings(auth_algorithms=algorithms)


def test_requests_during_a_fetch_wait_for_it_instead_of_failing():
    documents = {"https://k": ISSUER.jwks()}

    def slow(url: str, _timeout: float) -> Any:
        time.sleep(0.2)
        return documents[url]

    keys = IssuerKeys("https://issuer.example", "https://k", frozenset({"RS256"}), 1, 60, 60, slow)

    def lookup() -> object:
        found = keys.key(ISSUER.kid)
        if found is REFRESH_NEEDED:
            keys.refresh()
            found = keys.key(ISSUER.kid)
        return found

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _n: lookup(), range(8)))
    assert all(not isinstance(key, Refusal) for key in found), found

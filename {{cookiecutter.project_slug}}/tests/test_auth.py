"""Authentication and scopes (docs in core/auth/): who may call the API, and what is logged."""

import pytest

from {{ cookiecutter.project_slug }} import SERVICE_NAME
from {{ cookiecutter.project_slug }}.core.auth import (
    SCHEME,
    ResourceScopes,
)

from .settings import {{ "API_KEY, CREDENTIALS, READ_ONLY_KEY" if cookiecutter.auth == "api-key" else "CREDENTIALS, ISSUER" }}

GUARDED = "/test/guarded"
{%- if cookiecutter.auth == "api-key" %}
HEADER = "X-API-Key"
WRONG = {HEADER: "tests-only-key-nobody-has-this-one-00"}
READ_ONLY = {HEADER: READ_ONLY_KEY}
SECRETS = [API_KEY, READ_ONLY_KEY, WRONG[HEADER]]
{%- else %}
HEADER = "Authorization"
WRONG = {HEADER: f"Bearer {ISSUER.token(aud='someone-else')}"}
READ_ONLY = {HEADER: f"Bearer {ISSUER.token(sub='reader', scope='items:read')}"}
# A token's signature is its one secret part; nothing of a token may be logged.
SECRETS = [value.rsplit(".", 1)[1] for value in (CREDENTIALS[HEADER], READ_ONLY[HEADER])]
{%- endif %}
REALM = f'realm="{SERVICE_NAME}"'


def error_of(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


@pytest.fixture
def anonymous(make_client):
    return make_client(credentials={})


def test_credentials_with_the_scope_pass(client):
    assert client.get(GUARDED).json() == {"principal": "tests"}
    assert client.post(GUARDED).json() == {"principal": "tests"}


def test_no_credentials_get_401_with_a_challenge(anonymous):
    for method in ("GET", "POST"):
        response = anonymous.request(method, GUARDED)
        error_of(response, 401, "UNAUTHORIZED")
        # RFC 6750: no error code when nothing was sent.
        assert response.headers["WWW-Authenticate"] == f"{SCHEME} {REALM}"


def test_wrong_credentials_get_401_invalid_token(anonymous):
    for headers in (WRONG, {HEADER: ""}, {HEADER: "x" * 5000}):
        response = anonymous.get(GUARDED, headers=headers)
        error = error_of(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"] == f'{SCHEME} {REALM}, error="invalid_token"'
        # The answer says nothing about which check failed.
        assert error["message"] == "Valid credentials are required"


def test_credentials_without_the_scope_get_403(anonymous):
    assert anonymous.get(GUARDED, headers=READ_ONLY).json() == {"principal": "reader"}
    response = anonymous.post(GUARDED, headers=READ_ONLY)
    error_of(response, 403, "FORBIDDEN")
    assert response.headers["WWW-Authenticate"] == (
        f'{SCHEME} {REALM}, error="insufficient_scope", scope="items:write"'
    )


def test_the_scopes_of_a_method():
    scopes = ResourceScopes(read="r", write="w")
    assert [scopes.for_method(m) for m in ("GET", "HEAD", "OPTIONS")] == ["r", "r", None]
    assert {scopes.for_method(m) for m in ("POST", "PUT", "PATCH", "DELETE")} == {"w"}


@pytest.mark.parametrize("path", ["/status", "/health/live", "/health/ready", "/metrics"])
def test_operational_routes_need_no_credentials(anonymous, path):
    assert anonymous.get(path).status_code == 200
    # Even wrong ones do not stop them.
    assert anonymous.get(path, headers=WRONG).status_code == 200


def test_the_caller_outside_a_guard(client, anonymous):
    assert client.get("/test/caller").json() == {"principal": "tests"}
    error_of(anonymous.get("/test/caller"), 401, "UNAUTHORIZED")
    error_of(anonymous.get("/test/caller", headers=WRONG), 401, "UNAUTHORIZED")


def test_the_access_line_names_the_principal_and_no_credential(anonymous, logs):
    anonymous.get(GUARDED, headers={**CREDENTIALS, "X-Request-ID": "who-1"})
    anonymous.post(GUARDED, headers={**READ_ONLY, "X-Request-ID": "who-2"})
    anonymous.get(GUARDED, headers={**WRONG, "X-Request-ID": "who-3"})
    anonymous.get(GUARDED, headers={"X-Request-ID": "who-4"})
    records = logs()
    lines = {r["request_id"]: r for r in records if r["event"] == "request"}
    assert lines["who-1"]["principal"] == "tests"
    assert lines["who-2"]["principal"] == "reader"
    assert "principal" not in lines["who-3"]
    assert "principal" not in lines["who-4"]
    refusals = {r["request_id"]: r for r in records if r["event"] == "auth_refused"}
    assert (refusals["who-2"]["status"], refusals["who-2"]["principal"]) == (403, "reader")
    assert refusals["who-2"]["needed"] == "items:write"
    assert refusals["who-3"]["status"] == 401
    assert refusals["who-3"]["reason"] != "no_credentials"
    assert (refusals["who-4"]["status"], refusals["who-4"]["reason"]) == (401, "no_credentials")
    text = str(records)
    for secret in SECRETS:
        assert secret not in text
        assert secret[-12:] not in text


def test_rate_limits_count_a_principal_wherever_it_calls_from(make_client):
    client = make_client(rate_limit="2/hour", trusted_proxies=["127.0.0.1"])
    statuses = [
        client.get(GUARDED, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    # Another principal from the same address has its own count...
    other = client.get(GUARDED, headers={**READ_ONLY, "X-Forwarded-For": "10.0.0.1"})
    assert other.status_code == 200
    # ...and anyone without valid credentials is counted by address, whatever it sends.
    anonymous = make_client(rate_limit="2/hour", credentials={})
    statuses = [anonymous.get("/status", headers=WRONG).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_cors_lets_browsers_send_credentials(make_client):
    client = make_client(cors_origins=["https://app.example"], credentials={})
    for header in ("Authorization", "X-API-Key"):
        response = client.options(
            GUARDED,
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": header,
            },
        )
        assert response.status_code == 200, response.text
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert header.lower() in allowed

"""Who may read /metrics and the detailed /health: anyone, or only with METRICS_TOKEN."""

from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import (
    METRICS_TOKEN_REQUIRED,
    Settings,
)

from .settings import AUTH_SETTINGS, METRICS_TOKEN, SECRET

GUARDED = ["/metrics", "/health"]


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"]
)
def test_with_a_token_set_the_guarded_paths_refuse_anyone_without_it(
    make_client, path, authorization
):
    headers = {"Authorization": authorization} if authorization else {}
    response = make_client(metrics_token=METRICS_TOKEN).get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED" and error["message"] == "Unauthorized"
    assert "version" not in response.text and "http_requests_total" not in response.text


def test_with_a_token_set_the_guarded_paths_answer_with_it(make_client):
    client = make_client(metrics_token=METRICS_TOKEN, checks={"database": "ok"})
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert "http_requests_total" in client.get("/metrics", headers=headers).text
    detailed = client.get("/health", headers=headers)
    assert detailed.status_code == 200 and detailed.json()["version"]


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/status"])
def test_probes_and_status_need_no_token(make_client, path):
    # Kubelets and platform health checks send no header.
    assert make_client(metrics_token=METRICS_TOKEN).get(path).status_code == 200


@pytest.mark.parametrize("path", GUARDED)
def test_without_a_token_the_guarded_paths_answer_anyone(client, path):
    assert client.get(path).status_code == 200


def test_production_needs_a_token_where_nothing_else_guards_the_paths():
    values: dict[str, Any] = {
        "environment": "production",
        "secret_key": SECRET,
        **AUTH_SETTINGS,
    }
    if METRICS_TOKEN_REQUIRED:
        with pytest.raises(ValidationError, match="METRICS_TOKEN must be set"):
            Settings(**values)
    else:
        assert not Settings(**values).metrics_token.get_secret_value()
    assert Settings(**values, metrics_token=METRICS_TOKEN).is_production


def test_a_short_token_is_refused():
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least 32"):
        Settings(metrics_token="short")

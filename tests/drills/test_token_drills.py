"""The hostile-token drill: bearer tokens that must never pass, sent to both frameworks under
`gunicorn -c gunicorn.conf.py` in production (auth=jwt), with the issuer's keys served over
HTTP by the generated project's own test issuer (`tests/issuer.py`).

Every token gets 401 (403 for scopes it lacks) in the JSON error shape, or 400/431 where the
HTTP layer refuses its size first; never a 5xx, and nothing of any token reaches the log.
"""

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from cookiecutter.main import cookiecutter

from tests.helpers.running_service import SECRET, install, running
from tests.helpers.template import ROOT

ITEMS = "/api/v1/items"
# Run with the baked project's Python: its issuer, its own corpus of hostile tokens
# (tests/test_tokens.py) and the drill's few more, as JSON on one line; then it serves the
# issuer's discovery document and keys until stdin closes.
MINT = """
import json, sys
from tests.issuer import Issuer
from tests.test_tokens import hostile_tokens

issuer = Issuer()
tokens = hostile_tokens(issuer)
tokens["64 KiB token"] = issuer.token(padding="x" * 65536)
corpus = {
    "url": issuer.url,
    "hostile": tokens,
    "valid": issuer.token(),
    "reader": issuer.token(sub="reader", scope="items:read"),
    "smuggled": issuer.token(
        scope="items:read", scopes="items:write", roles=["items:write"],
        permissions="items:write", groups=["items:write"],
    ),
}
print(json.dumps(corpus), flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def guarded(request, tmp_path_factory, uv):
    output = tmp_path_factory.mktemp(f"tokens-{request.param}")
    answers = {"framework": request.param, "database": "sqlite", "auth": "jwt"}
    project = Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(output), extra_context=answers)
    )
    install(project, uv)
    issuer = subprocess.Popen(
        [str(project / ".venv" / "bin" / "python"), "-c", MINT],
        cwd=project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        corpus = json.loads(issuer.stdout.readline())
        env = {
            "DATABASE_URL": f"sqlite:///{output / 'tokens.db'}",
            "AUTH_ISSUER": corpus["url"],
            "AUTH_AUDIENCE": "my-service",
            "RATE_LIMIT": "100000/minute",
            "LOG_LEVEL": "INFO",
        }
        subprocess.run(
            [uv, "run", "--no-sync", "alembic", "upgrade", "head"],
            cwd=project,
            env={**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": SECRET, **env},
            check=True,
            capture_output=True,
        )
        with running(project, env=env, workers=2, log_dir=output, credentials={}) as service:
            yield service, corpus
    finally:
        issuer.stdin.close()
        issuer.wait(timeout=10)


def cases(corpus: dict) -> list[tuple[str, str, list[tuple[str, str]], str, set[int]]]:
    """(name, method, headers, path, the statuses allowed) for every hostile request."""
    bearer = "Authorization", "Bearer {}"
    found = [
        (name, "GET", [(bearer[0], bearer[1].format(token))], ITEMS, {401})
        for name, token in corpus["hostile"].items()
    ]
    found = [
        (name, method, headers, path, {400, 431} if name == "64 KiB token" else allowed)
        for name, method, headers, path, allowed in found
    ]
    valid = bearer[1].format(corpus["valid"])
    found += [
        ("no credentials", "GET", [], ITEMS, {401}),
        ("duplicate Authorization header", "GET", [(bearer[0], valid), (bearer[0], valid)],
         ITEMS, {401}),
        ("token in the query string only", "GET", [], f"{ITEMS}?access_token={corpus['valid']}",
         {401}),
        ("token in a cookie only", "GET", [("Cookie", f"access_token={corpus['valid']}")],
         ITEMS, {401}),
        ("scopes smuggled in other claims", "POST",
         [(bearer[0], bearer[1].format(corpus["smuggled"]))], ITEMS, {403}),
        ("read scope writing", "POST", [(bearer[0], bearer[1].format(corpus["reader"]))],
         ITEMS, {403}),
    ]  # fmt: skip
    return found


def test_hostile_tokens_never_pass_and_never_reach_the_log(guarded, drill_record):
    service, corpus = guarded
    problems = []
    with httpx.Client(base_url=service.url, timeout=10) as client:
        # The controls: a valid token reads and writes, so a refusal below is the token's.
        valid = {"Authorization": f"Bearer {corpus['valid']}"}
        assert client.get(ITEMS, headers=valid).status_code == 200
        assert client.post(ITEMS, headers=valid, json={"name": "drill"}).status_code == 201
        assert (
            client.get(ITEMS, headers={"Authorization": f"Bearer {corpus['reader']}"}).status_code
            == 200
        )
        hostile = cases(corpus)
        for name, method, headers, path, allowed in hostile:
            response = client.request(
                method, path, headers=headers, json={"name": "x"} if method == "POST" else None
            )
            status = response.status_code
            if status not in allowed:
                problems.append(f"{name}: {status} {response.text[:200]}")
                continue
            if status in (401, 403):
                body = response.json()["error"]
                expected = "UNAUTHORIZED" if status == 401 else "FORBIDDEN"
                if body["code"] != expected or "www-authenticate" not in response.headers:
                    problems.append(f"{name}: {status} {body}")
    service.wait_for_record(event="auth_refused")
    log = "\n".join(service.lines())
    tokens = [*corpus["hostile"].values(), corpus["valid"], corpus["reader"], corpus["smuggled"]]
    for token in tokens:
        for part in token.split("."):
            if len(part) >= 16 and part in log:
                problems.append(f"a token's segment is in the log: {part[:16]}...")
    assert not [line for line in service.records() if line.get("status", 0) >= 500]
    drill_record("hostile tokens", inputs=len(hostile), errors=len(problems))
    assert problems == []

"""sentry=true end to end: a service under gunicorn with two workers sends its errors to a
Sentry endpoint this test runs, which decodes the real envelopes (per Content-Encoding) and
parses them.

Each framework is baked with SQLite. The unhandled error comes from an existing path, not a
test-only route: an item whose stored `created_at` is not a timestamp (written behind the
service's back, as a bad migration or a manual fix could) makes reading it raise in
SQLAlchemy's result processing, which nothing handles. That request carries
`Authorization`, `Cookie` and the tests' `X-API-Key`; a 404 and a 422 are sent beside it.
Then: exactly one event, tagged with that request's id, holding none of the credential
values, and nothing else but that event.
"""

import gzip
import json
import os
import sqlite3
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.credentials import API_KEY
from tests.helpers.running_service import start

FRAMEWORKS = ("fastapi", "flask")
SECRETS = {
    "Authorization": "Bearer live-secret-bearer-0123456789",
    "Cookie": "session=live-secret-cookie-0123456789",
}


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # only when the service's SDK found brotli installed

        return brotli.decompress(body)
    assert encoding in (None, "identity"), encoding
    return body


def parse_envelope(body: bytes) -> tuple[dict, list[tuple[dict, bytes]]]:
    """The envelope format: a header line, then per item a header line and a payload of the
    header's `length` bytes (or up to the next newline when it has none)."""
    line, _, rest = body.partition(b"\n")
    header = json.loads(line)
    items = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        item = json.loads(line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return header, items


class Receiver:
    """A Sentry ingest endpoint on 127.0.0.1: every envelope, decoded, and its events."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.events: list[dict] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = decode(raw, self.headers.get("Content-Encoding"))
                receiver.paths.append(self.path)
                receiver.bodies.append(body)
                _header, items = parse_envelope(body)
                for item, payload in items:
                    if item.get("type") == "event":
                        receiver.events.append(json.loads(payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def dsn(self) -> str:
        return f"http://live-public-key@127.0.0.1:{self.server.server_address[1]}/42"

    def wait_for_events(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Errors only (no framework integration: the event's request is the service's own account),
# and with Sentry tracing a tenth of the requests (its framework integration on).
RATES = ("0", "0.1")


@pytest.fixture(
    scope="module",
    params=[(f, r) for f in FRAMEWORKS for r in RATES],
    ids=[f"{f}-traces-{r}" for f in FRAMEWORKS for r in RATES],
)
def reported(request, cookies_session, uv, tmp_path_factory):
    framework, rate = request.param
    result = cookies_session.bake(
        extra_context={"framework": framework, "database": "sqlite", "sentry": True}
    )
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    receiver = Receiver()
    data = tmp_path_factory.mktemp(f"sentry-{framework}-{rate}")
    database = data / "app.db"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "RATE_LIMIT": "1000/minute",
        "LOG_LEVEL": "INFO",
        "SENTRY_DSN": receiver.dsn,
        "SENTRY_TRACES_SAMPLE_RATE": rate,
    }
    for command in (["sync", "--quiet"], ["run", "--no-sync", "alembic", "upgrade", "head"]):
        done = subprocess.run(
            [uv, *command], cwd=project, env={**os.environ, **env}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    service = start(project, env=env, workers=2, log_dir=data)
    answers = {}
    created = service.request("POST", "/api/v1/items", json={"name": "to be spoilt"})
    assert created.status_code == 201, created.text
    item = created.json()["id"]
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE items SET created_at = 'not a time' WHERE id = ?", (item,))
    answers["missing"] = service.get("/api/v1/items/999999")
    answers["invalid"] = service.request("POST", "/api/v1/items", json={"name": ""})
    answers["failing"] = service.get(
        f"/api/v1/items/{item}", headers={**SECRETS, "X-Request-ID": f"sentry-live-{framework}"}
    )
    receiver.wait_for_events(1)
    # Whatever else a worker would send (a second event) is flushed when it exits.
    assert service.stop() == 0
    receiver.close()
    yield framework, service, receiver, answers


def test_an_unhandled_error_sends_exactly_one_event_with_the_request_id(reported):
    framework, service, receiver, answers = reported
    failing = answers["failing"]
    assert failing.status_code == 500
    assert failing.json()["error"]["code"] == "INTERNAL_ERROR"
    (event,) = receiver.events
    assert event["tags"]["request_id"] == f"sentry-live-{framework}"
    assert failing.headers["x-request-id"] == f"sentry-live-{framework}"
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ValueError"
    assert event["environment"] == "production"
    assert event["release"] == "my-service@0.1.0"
    assert event["transaction"] == "GET /api/v1/items/{item_id}"
    assert set(receiver.paths) == {"/api/42/envelope/"}
    # The same error is in the log once, with the same id.
    failures = [r for r in service.records() if r.get("event") == "unhandled_exception"]
    assert [r["request_id"] for r in failures] == [f"sentry-live-{framework}"]


def test_no_credential_value_reaches_sentry(reported):
    _framework, _service, receiver, _answers = reported
    sent = b"".join(receiver.bodies).decode()
    leaked = [v for v in [*SECRETS.values(), API_KEY] if v in sent]
    assert leaked == []
    (event,) = receiver.events
    headers = {name.lower() for name in event["request"]["headers"]}
    assert {"authorization", "x-api-key"} <= headers  # named, their values filtered
    assert "user" not in event and not event["request"].get("data")  # no body, no user


def test_the_service_s_own_4xx_answers_send_nothing(reported):
    _framework, _service, receiver, answers = reported
    assert answers["missing"].status_code == 404
    assert answers["invalid"].status_code == 422
    assert len(receiver.events) == 1
    # Besides the one event, at most the sampled requests' transactions and the SDK's own
    # count of what it dropped (client reports): no sessions, no second event.
    kinds = [item.get("type") for body in receiver.bodies for item, _ in parse_envelope(body)[1]]
    assert kinds.count("event") == 1
    assert set(kinds) <= {"event", "transaction", "client_report"}, kinds

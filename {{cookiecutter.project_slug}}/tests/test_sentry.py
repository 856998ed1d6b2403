"""Error tracking (core/sentry.py): the real SDK sends its envelopes to a Sentry endpoint this
module runs on 127.0.0.1; what arrives is one event per unhandled error, tagged with the
request's id, without the credential headers' values, and nothing for the service's own 4xx
answers."""

import gzip
import json
import os
import runpy
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

{% if cookiecutter.background_jobs %}import dramatiq
{% endif %}import pytest
import sentry_sdk
{%- if cookiecutter.background_jobs %}
from dramatiq.brokers.stub import StubBroker
{%- endif %}
{%- if cookiecutter.opentelemetry %}
from opentelemetry import propagate, trace
{%- endif %}
from pydantic import ValidationError
from sentry_sdk.scope import should_send_default_pii
from sentry_sdk.scrubber import EventScrubber

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import {% if cookiecutter.background_jobs %}request_id, {% endif %}sentry

{% if cookiecutter.background_jobs %}from .jobs.stub import drain
{% endif %}from .settings import CREDENTIALS, base_settings
{%- if cookiecutter.opentelemetry %}

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
{%- endif %}

# Sent with the failing request; none of them may reach Sentry.
SECRETS = {
    "Authorization": "Bearer secret-bearer-0123456789",
    "Cookie": "session=secret-cookie-0123456789",
    "X-API-Key": "secret-api-key-0123456789",
}
CREDENTIAL_HEADERS = {name.lower() for name in SECRETS}


def parse_envelope(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Sentry's envelope: a header line, then per item a header line and its payload (of the
    header's `length`, or up to the next newline)."""
    _header, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        item = json.loads(line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return items


class Receiver:
    """A Sentry ingest endpoint: every envelope it is sent, raw (decoded) and parsed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("Content-Encoding") == "deflate":
                    body = zlib.decompress(body)
                received.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server.server_address[1]}/1"

    def events(self) -> list[dict[str, Any]]:
        sentry.flush()
        return [
            json.loads(payload)
            for body in self.bodies
            for item, payload in parse_envelope(body)
            if item.get("type") == "event"
        ]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    sentry.start(base_settings(sentry_dsn=found.dsn))
    yield found
    # The other modules run without Sentry, as they would with SENTRY_DSN unset.
    sentry_sdk.get_client().close()
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
    sentry._started_in = 0
    found.server.shutdown()


@pytest.fixture
def events(receiver: Receiver) -> Callable[[], list[dict[str, Any]]]:
    sentry.flush()
    receiver.bodies.clear()
    return receiver.events


def tags(event: dict[str, Any]) -> dict[str, str]:
    return dict(event.get("tags", {}))


def test_the_rate_must_be_a_share(monkeypatch):
    for rate in (-0.1, 1.5):
        with pytest.raises(ValidationError, match="SENTRY_TRACES_SAMPLE_RATE must be between"):
            base_settings(sentry_traces_sample_rate=rate)
    assert base_settings(sentry_traces_sample_rate=1).sentry_traces_sample_rate == 1
    monkeypatch.delenv("SENTRY_TRACES_SAMPLE_RATE", raising=False)
    assert Settings(environment="test").sentry_traces_sample_rate == {{ "0" if cookiecutter.opentelemetry else "0.1" }}


@pytest.mark.parametrize(
    "dsn",
    [
        "not a dsn",
        "ftp://key@sentry.example.com/1",
        "https://sentry.example.com/1",
        "https://key@sentry.example.com/project",
    ],
)
def test_a_malformed_dsn_is_refused_without_echoing_it(dsn):
    with pytest.raises(ValidationError, match="SENTRY_DSN is not a Sentry DSN") as refused:
        base_settings(sentry_dsn=dsn)
    assert dsn not in str(refused.value)


def test_a_dsn_as_sentry_shows_it_is_accepted():
    dsn = "https://0123abcd@o1.ingest.sentry.io/4500000000000000"
    assert base_settings(sentry_dsn=dsn).sentry_dsn.get_secret_value() == dsn


def test_the_framework_integration_runs_only_while_sentry_traces():
    errors_only = sentry.integrations(base_settings(sentry_traces_sample_rate=0))
    assert [type(i).__name__ for i in errors_only] == ["DedupeIntegration"]
    traced = sentry.integrations(base_settings(sentry_traces_sample_rate=0.5))
    assert [type(i).__name__ for i in traced] == [
        "DedupeIntegration",
{%- if cookiecutter.framework == "fastapi" %}
        "StarletteIntegration",
        "FastApiIntegration",
{%- else %}
        "FlaskIntegration",
{%- endif %}
    ]


def test_nothing_starts_without_a_dsn(monkeypatch):
    monkeypatch.setattr(sentry, "_started_in", 0)
    sentry.start(base_settings())
    assert sentry._started_in == 0


def test_gunicorn_starts_sentry_in_each_worker_never_in_the_master(monkeypatch, receiver):
    monkeypatch.setenv("SENTRY_DSN", receiver.dsn)
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setattr(sentry, "_started_in", 0)
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert sentry._started_in == 0  # reading the configuration (the master) starts nothing
    conf["post_fork"](SimpleNamespace(), SimpleNamespace())
    assert sentry._started_in == os.getpid()
    assert sentry_sdk.get_client().is_active()


def test_an_unhandled_error_sends_one_event_tagged_with_the_request_id(client, events):
    response = client.get("/test/boom", headers={"X-Request-ID": "sentry-1"})
    assert response.status_code == 500
    (event,) = events()
    assert tags(event)["request_id"] == "sentry-1"
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert event["level"] == "error"
    assert event["release"] == f"{SERVICE_NAME}@{__version__}"
    assert event["environment"] == "test"  # ENVIRONMENT, as SENTRY_ENVIRONMENT is empty
    assert event["transaction"] == "GET /test/boom"
    assert "user" not in event and not should_send_default_pii()


def test_the_credential_headers_never_reach_sentry(make_client, receiver, events):
    # The tests' own credential too (CREDENTIALS may also hold the User-Agent FastAPI's test
    # client adds to the mapping it is given, which is no secret).
    credential = {k: v for k, v in CREDENTIALS.items() if k.lower() in CREDENTIAL_HEADERS}
    client = make_client(credentials={})
    response = client.get("/test/boom", headers=SECRETS | credential)
    assert response.status_code == 500
    (event,) = events()
    sent = b"".join(receiver.bodies).decode()
    leaked = [v for v in [*SECRETS.values(), *credential.values()] if v in sent]
    assert leaked == []
    # The request is described all the same: its path, and the credential headers by name
    # (Flask's integration leaves the cookies out altogether).
    assert event["request"]["url"].endswith("/test/boom")
    headers = {name.lower() for name in event["request"]["headers"]}
    assert {"authorization", "x-api-key"} <= headers


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/no/such/path", None, 404),
        ("POST", "/test/things", {"name": ""}, 422),
        ("GET", "/test/conflict", None, 409),
    ],
)
def test_the_service_s_own_answers_send_nothing(client, events, method, path, body, status):
    response = client.request(method, path, json=body)
    assert response.status_code == status
    assert events() == []


def test_the_scrubber_removes_credentials_however_they_are_spelt():
    event: dict[str, Any] = {
        "request": {
            "headers": {"X-Api-Key": "k1", "x-api-key": "k2", "Authorization": "t", "Cookie": "c"}
        },
        "extra": {"nested": {"set-cookie": "s", "password": "p", "kept": "yes"}},
    }
    EventScrubber(denylist=sentry.DENYLIST, recursive=True).scrub_event(event)  # type: ignore[arg-type]
    headers = {getattr(v, "value", v) for v in event["request"]["headers"].values()}
    assert headers == {"[Filtered]"}
    nested = {k: getattr(v, "value", v) for k, v in event["extra"]["nested"].items()}
    assert nested == {"set-cookie": "[Filtered]", "password": "[Filtered]", "kept": "yes"}
{%- if cookiecutter.opentelemetry %}


def test_the_event_names_the_request_s_trace(client, events):
    response = client.get("/test/boom", headers={"traceparent": PARENT})
    assert response.status_code == 500
    (event,) = events()
    assert tags(event)["trace_id"] == TRACE


def test_w3c_trace_context_still_reaches_downstream_services(receiver):
    """Sentry leaves OpenTelemetry's propagator in place: what the service sends on carries
    `traceparent`, and no header of Sentry's own."""
    carrier: dict[str, str] = {}
    with trace.get_tracer(__name__).start_as_current_span("outgoing"):
        propagate.inject(carrier)
    assert "traceparent" in carrier
    assert "sentry-trace" not in carrier and "baggage" not in carrier
{%- endif %}
{%- if cookiecutter.background_jobs %}


def test_a_job_given_up_sends_one_event(jobs_broker: StubBroker, events):
    @dramatiq.actor(broker=jobs_broker, queue_name="default")
    def fails_for_sentry() -> None:
        raise RuntimeError("the job's cause")

    token = request_id.bind("job-req-1")
    try:
        fails_for_sentry.send()
    finally:
        request_id.unbind(token)
    drain(jobs_broker)
    (event,) = events()  # retries that fail send nothing; the last attempt does
    assert tags(event)["actor"] == "fails_for_sentry"
    assert tags(event)["request_id"] == "job-req-1"
    (exception,) = event["exception"]["values"]
    assert exception["value"] == "the job's cause"
{%- endif %}

"""opentelemetry=true end to end: a service under gunicorn exports its spans over OTLP/HTTP to
a receiver this test runs, which decodes the real protobuf (opentelemetry-proto).

Each framework is baked with SQLite and Redis (the rate limit's storage, so every request
talks to Redis), run with two workers, and sent requests with and without a `traceparent`,
one of them hostile. The batch processor's delay is a minute, so nothing is exported until
the workers exit: what arrives proves the flush at exit. Then: one trace per request, the
inbound trace id kept and its parent span named, the server span named by route template,
SQLAlchemy and Redis child spans in the same trace, the access line and the X-Trace-Id header
naming that trace and span, probes untraced, and a hostile header starting a new trace.
"""

import gzip
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.helpers.running_service import start

FRAMEWORKS = ("fastapi", "flask")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
PARENT = f"00-{TRACE}-{PARENT_SPAN}-01"
# Not W3C, with a line separator in it (sent as UTF-8 bytes).
HOSTILE = ("00-" + "f" * 32 + "-\u2028\\n-01 ff").encode()
SERVER, CLIENT = 2, 3  # Span.SpanKind in the protocol


class Receiver:
    """An OTLP/HTTP trace endpoint on 127.0.0.1: every span it is sent, decoded."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                assert self.path == "/v1/traces", self.path
                assert self.headers["Content-Type"] == "application/x-protobuf"
                request = ExportTraceServiceRequest.FromString(body)
                receiver.requests += 1
                for resource_spans in request.resource_spans:
                    resource = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            receiver.spans.append(
                                {
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "parent_span_id": span.parent_span_id.hex(),
                                    "name": span.name,
                                    "kind": span.kind,
                                    "attributes": {
                                        a.key: a.value.string_value or a.value.int_value
                                        for a in span.attributes
                                    },
                                    "resource": resource,
                                }
                            )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def trace_of(spans, trace_id):
    return [s for s in spans if s["trace_id"] == trace_id]


@pytest.fixture(scope="module", params=FRAMEWORKS)
def traced(request, cookies_session, uv, redis_server, tmp_path_factory):
    framework = request.param
    result = cookies_session.bake(
        extra_context={
            "framework": framework,
            "database": "sqlite",
            "use_redis": True,
            "opentelemetry": True,
        }
    )
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    receiver = Receiver()
    data = tmp_path_factory.mktemp(f"traced-{framework}")
    env = {
        "DATABASE_URL": f"sqlite:///{data / 'app.db'}",
        "REDIS_URL": redis_server.url(db=12 + FRAMEWORKS.index(framework)),
        "REDIS_KEY_PREFIX": f"traced-{framework}:",
        "RATE_LIMIT": "1000/minute",
        "LOG_LEVEL": "INFO",
        "TRACE_SAMPLE_RATIO": "1.0",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        # Nothing is exported before the workers exit: the spans that arrive were flushed then.
        "OTEL_BSP_SCHEDULE_DELAY": "60000",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=drill",
    }
    removed = ("OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER")
    clean = {k: v for k, v in os.environ.items() if k not in removed}
    for command in (["sync", "--quiet"], ["run", "--no-sync", "alembic", "upgrade", "head"]):
        done = subprocess.run(
            [uv, *command], cwd=project, env={**clean, **env}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    for name in removed:
        os.environ.pop(name, None)
    service = start(project, env=env, workers=2, log_dir=data)
    answers = {}
    answers["created"] = service.request(
        "POST", "/api/v1/items", json={"name": "traced"}, headers={"traceparent": PARENT}
    )
    item = answers["created"].json()["id"]
    answers["read"] = service.get(f"/api/v1/items/{item}")
    answers["hostile"] = service.get("/status", headers={"traceparent": HOSTILE})
    answers["probe"] = service.get("/health/ready", headers={"traceparent": PARENT})
    assert service.stop() == 0
    receiver.close()
    yield service, receiver, answers


def test_spans_are_exported_when_the_workers_exit(traced):
    _service, receiver, _answers = traced
    assert receiver.requests >= 1, "\n".join(_service.lines()[-40:])
    assert receiver.spans
    assert {s["resource"].get("service.name") for s in receiver.spans} == {"my-service"}
    assert {s["resource"].get("deployment.environment.name") for s in receiver.spans} == {"drill"}


def test_an_inbound_trace_is_kept_with_database_and_redis_child_spans(traced):
    _service, receiver, answers = traced
    created = answers["created"]
    assert created.status_code == 201
    assert created.headers["x-trace-id"] == TRACE
    spans = trace_of(receiver.spans, TRACE)
    (server,) = [s for s in spans if s["kind"] == SERVER]
    assert server["name"] == "POST /api/v1/items"
    assert server["parent_span_id"] == PARENT_SPAN
    children = [s for s in spans if s is not server]
    ids = {s["span_id"] for s in spans}
    assert all(s["parent_span_id"] in ids for s in children)
    systems = {
        s["attributes"].get("db.system.name") or s["attributes"].get("db.system")
        for s in children
        if s["kind"] == CLIENT
    }
    assert "redis" in systems and "sqlite" in systems, systems


def test_the_access_line_and_the_header_name_the_request_span(traced):
    service, receiver, answers = traced
    records = service.records()
    for answer in ("created", "read"):
        response = answers[answer]
        trace_id = response.headers["x-trace-id"]
        (server,) = [s for s in trace_of(receiver.spans, trace_id) if s["kind"] == SERVER]
        rid = response.headers["x-request-id"]
        (access,) = [
            r for r in records if r.get("event") == "request" and r.get("request_id") == rid
        ]
        assert (access["trace_id"], access["span_id"]) == (trace_id, server["span_id"])
    read = answers["read"]
    assert read.headers["x-trace-id"] != TRACE  # no traceparent: a trace of its own
    (server,) = [
        s for s in trace_of(receiver.spans, read.headers["x-trace-id"]) if s["kind"] == SERVER
    ]
    assert server["name"] == "GET /api/v1/items/{item_id}"
    assert server["parent_span_id"] == ""


def test_a_hostile_traceparent_starts_a_new_trace_and_never_reaches_the_logs(traced):
    service, receiver, answers = traced
    hostile = answers["hostile"]
    assert hostile.status_code == 200
    trace_id = hostile.headers["x-trace-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "f" * 32
    (server,) = [s for s in trace_of(receiver.spans, trace_id) if s["kind"] == SERVER]
    assert server["parent_span_id"] == ""
    forged = ("\u2028", "\\u2028", "ffffffffffff")
    assert not [line for line in service.lines() if any(f in line for f in forged)]


def test_probes_are_not_traced(traced):
    _service, receiver, answers = traced
    assert answers["probe"].status_code == 200
    assert "x-trace-id" not in answers["probe"].headers
    assert not [s for s in receiver.spans if "/health" in s["name"]]
    assert len([s for s in receiver.spans if s["kind"] == SERVER]) == 3

"""Error tracking with Sentry (sentry-sdk).

`start` sets the SDK up once per process, and only when SENTRY_DSN is set: in a gunicorn
worker after its fork (post_fork; never in the master, whose transport thread a fork would
not carry over){% if cookiecutter.background_jobs %}, and in each Dramatiq worker process after its boot{% endif %}.

What reaches Sentry: one event per unhandled exception, sent by the handler that answers it
with a 500 (`capture`){% if cookiecutter.background_jobs %}, and one per job whose retries gave up (jobs/middleware.py), not
one per failed attempt{% endif %}. Answers the service gives on purpose (4xx, and the 503 of an
unavailable dependency) are not errors and send nothing. Events carry the request's
`request_id` as a tag{% if cookiecutter.opentelemetry %}, and the `trace_id` of its OpenTelemetry span{% endif %}.

Only the integrations listed here run: Sentry's logging integration would format every log
record for breadcrumbs and send each `logger.exception` as a second event, and the others
patch what the service does not need reported. The framework's integration runs only while
Sentry traces requests itself (SENTRY_TRACES_SAMPLE_RATE above 0): it costs every request
work, so `capture` describes the failed request itself. No personal data (`send_default_pii`
off), no request bodies, no local variables (a frame's locals hold the credentials it
checked), and the credential headers are scrubbed by name from whatever an event carries.
{%- if cookiecutter.opentelemetry %}

OpenTelemetry owns the traces: SENTRY_TRACES_SAMPLE_RATE is 0 unless set, and the SDK never
touches the W3C `traceparent` the OpenTelemetry propagator reads and writes.
{%- endif %}
"""

import os
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import request_id, sentry_requests{% if cookiecutter.opentelemetry %}, tracing{% endif %}

# Scrubbed wherever they appear in an event, however a framework spells the header; the
# client's address too, as no personal data is sent.
DENYLIST = [
    *DEFAULT_DENYLIST,
    "x-api-key",
    "set-cookie",
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
]

_started_in = 0


def integrations(settings: Settings) -> list[Integration]:
    """Dedupe, and the framework's (core/sentry_requests.py) when Sentry traces requests."""
    chosen: list[Integration] = [DedupeIntegration()]
    if settings.sentry_traces_sample_rate > 0:
        chosen += sentry_requests.integrations()
    return chosen


def start(settings: Settings) -> None:
    """Set the SDK up in this process, once (a forked worker sets up its own)."""
    global _started_in
    dsn = settings.sentry_dsn.get_secret_value()
    if not dsn or _started_in == os.getpid():
        return
    _started_in = os.getpid()
    sentry_sdk.init(
        dsn=dsn,
        environment=settings.sentry_environment or settings.environment.value,
        release=f"{SERVICE_NAME}@{__version__}",
        traces_sample_rate=settings.sentry_traces_sample_rate,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=integrations(settings),
        # send_default_pii stays off, its default (2.75 deprecates passing it): no user, no
        # client address, no cookies; request bodies and frames' local variables neither.
        max_request_body_size="never",
        include_local_variables=False,
        # Release health would count a session per request; the metrics count them already.
        auto_session_tracking=False,
        event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True),
    )


def capture(
    error: BaseException,
    request: dict[str, Any] | None = None,
    transaction: str | None = None,
    **tags: str,
) -> None:
    """Send one event for `error`, tagged with the request's id{{ ", its trace id" if cookiecutter.opentelemetry else "" }} and `tags`; `request`
    describes the request it failed (`sentry_requests.request_of`), `transaction` names its
    route."""
    if not sentry_sdk.get_client().is_active():
        return
    with sentry_sdk.new_scope() as scope:
        if request is not None:
            scope.add_event_processor(lambda event, _hint: {**event, "request": request})
        if transaction is not None:
            scope.set_transaction_name(transaction)
        current = request_id.current()
        if current is not None:
            scope.set_tag("request_id", current)
{%- if cookiecutter.opentelemetry %}
        ids = tracing.current_ids()
        if ids is not None:
            scope.set_tag("trace_id", ids[0])
{%- endif %}
        for name, value in tags.items():
            scope.set_tag(name, value)
        sentry_sdk.capture_exception(error)


def flush() -> None:
    """Send the events still queued (an app's shutdown, a worker's exit)."""
    sentry_sdk.flush()

"""The jobs' Prometheus metrics, and the worker's /metrics server.

Every worker process writes its samples to PROMETHEUS_MULTIPROC_DIR (the worker command sets
it before anything imports prometheus_client); the server, a process of its own beside them,
sums them all at each scrape and adds the length of each dead-letter queue, read from Redis.
"""

import hmac
import os
import sys
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core.logs import (
    configure_logging,
    get_logger,
)

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)

ENQUEUED = Counter("jobs_enqueued_total", "Jobs sent to a queue (not retries).", ["actor"])
SUCCEEDED = Counter("jobs_succeeded_total", "Job attempts that succeeded.", ["actor"])
FAILED = Counter("jobs_failed_total", "Job attempts that raised.", ["actor"])
RETRIED = Counter("jobs_retried_total", "Failed jobs sent again after a backoff.", ["actor"])
DEAD_LETTERED = Counter(
    "jobs_dead_lettered_total", "Jobs moved to the dead letters after their last try.", ["actor"]
)
DURATION = Histogram("job_duration_seconds", "Time a job attempt ran.", ["actor"], buckets=BUCKETS)


class DeadLetters(Collector):
    """The number of messages in each queue's dead letters, read at each scrape."""

    def __init__(self, settings: Settings) -> None:
        # Imported here: dead_letters imports the broker, whose middleware imports this module.
        from {{ cookiecutter.project_slug }}.jobs import dead_letters

        self.queues = [dead_letters.DeadLetterQueue(settings, q) for q in settings.jobs_queues]
        self.log = get_logger("jobs.metrics")

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "jobs_dead_letters", "Messages in the dead-letter queue.", labels=["queue"]
        )
        for queue in self.queues:
            try:
                gauge.add_metric([queue.name], queue.count())
            except Exception as error:  # a scrape must answer even while Redis is down
                self.log.warning("dead_letters_unreadable", queue=queue.name, error=repr(error))
        yield gauge


def registry(settings: Settings) -> CollectorRegistry:
    found = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(found)  # type: ignore[no-untyped-call]
    else:  # one process (tests): this process's own values
        for metric in (ENQUEUED, SUCCEEDED, FAILED, RETRIED, DEAD_LETTERED, DURATION):
            found.register(metric)
    found.register(DeadLetters(settings))
    return found


def handler(settings: Settings, scraped: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    token = settings.metrics_token.get_secret_value()

    class MetricsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            sent = self.headers.get("Authorization", "")
            if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                self.send_error(401)
                return
            body = generate_latest(scraped)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Scrapes are not logged: one every few seconds says nothing."""

    return MetricsHandler


def serve() -> None:
    """The worker's metrics server (a Dramatiq fork process; the worker command starts it)."""
    # Dramatiq points the standard streams at its log pipe; the service logs to stdout.
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    settings = get_settings()
    configure_logging(settings.log_level, settings.json_logs)
    scraped = registry(settings)
    address = (settings.jobs_metrics_address, settings.jobs_metrics_port)
    server = ThreadingHTTPServer(address, handler(settings, scraped))
    get_logger("jobs.metrics").info("metrics_serving", address=server.server_address[:2])
    server.serve_forever()

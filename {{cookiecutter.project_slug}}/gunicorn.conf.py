"""gunicorn settings: `gunicorn -c gunicorn.conf.py` starts the service everywhere.

Everything operators tune comes from the environment: BIND (or PORT), WEB_CONCURRENCY,
GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_KEEPALIVE, GUNICORN_MAX_REQUESTS,
PROMETHEUS_MULTIPROC_DIR, TRUSTED_PROXIES and LOG_LEVEL.
"""

import gc
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings

# The service's package, as gunicorn and the logging set-up import it.
PACKAGE = "{{ cookiecutter.project_slug }}"
wsgi_app = f"{PACKAGE}.app:create_app()"
{%- if cookiecutter.framework == "fastapi" %}
# uvicorn's worker without its Server header and its own access log, whose graceful stop
# (HUP, TERM, max_requests) answers the requests already on their way to it.
worker_class = f"{PACKAGE}.core.worker.Worker"
{%- else %}
# gthread, whose threads get only requests that arrived whole (REQUEST_READ_TIMEOUT).
worker_class = f"{PACKAGE}.core.worker.Worker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
{%- endif %}

# PaaS platforms hand the port in PORT; everything else can set BIND.
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The classic (2 x cores) + 1: one worker per core busy on CPU while another waits on I/O.
# cpu_count() sees the host's cores, not a container's CPU limit: set WEB_CONCURRENCY there.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle each worker after about this many requests (a slow leak cannot grow forever); the
# jitter keeps the workers from all restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# X-Forwarded-* are believed only from these peers (nginx, the ingress): the same list the
# service uses to find the client's address.
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
# gunicorn 24+ otherwise opens a control socket in $HOME, which a service account may not have.
control_socket_disable = True

# One log stream: gunicorn's own records go through the service's formatter to stdout, and
# the access log is the service's (one line per request, with its request_id).
accesslog = None


class ServiceLogger(Logger):
    """gunicorn's logger without its access log.

    With a `logconfig_dict` gunicorn assumes an access log may be configured and builds every
    request's line, only for its handler-less logger to drop it: about a sixth of a small
    request's time in a gthread worker.
    """

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Nothing to build: the service writes its own line per request."""


logger_class = ServiceLogger
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
try:
    _json_logs = Settings().json_logs
except ValidationError:  # the worker refuses to start and names the setting
    _json_logs = True
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "service": {
            "()": f"{PACKAGE}.core.logs.formatter",
            "json_logs": _json_logs,
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "service",
        }
    },
    "root": {"handlers": ["stdout"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": [], "propagate": True},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
# Metrics folders this master created itself, removed again on exit.
_temp_dirs: list[str] = []


def on_starting(server: Any) -> None:
    """Prepare the metrics folder the workers share (prometheus-client multiprocess mode).

    Set before any worker imports prometheus_client; emptied, because files left by an earlier
    run would be added to this one's counts.
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        Path(path).mkdir(parents=True, exist_ok=True)
    else:
        path = tempfile.mkdtemp(prefix="prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _temp_dirs.append(path)
    server.log.info("metrics multiprocess dir: %s", path)


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges must not be summed any more."""
    # Imported here, never at the top: workers must import prometheus_client only after
    # on_starting has set PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


{%- if cookiecutter.opentelemetry or cookiecutter.sentry %}
{%- set both = cookiecutter.opentelemetry and cookiecutter.sentry %}


def post_fork(server: Any, worker: Any) -> None:
    """{{ "Tracing and error tracking start" if both else ("Tracing starts" if cookiecutter.opentelemetry else "Error tracking starts") }} in each worker, after the fork and before the app is
    loaded: the SDKs' threads would not survive a fork, and the libraries are patched before
    the app imports them."""
    from {{ cookiecutter.project_slug }}.core import (
{%- if cookiecutter.sentry %}
        sentry,
{%- endif %}
{%- if cookiecutter.opentelemetry %}
        tracing,
{%- endif %}
    )

    try:
        settings = Settings()
    except ValidationError:  # the app's own start names the setting and refuses
        return
{%- if cookiecutter.opentelemetry %}
    tracing.start(settings)
{%- endif %}
{%- if cookiecutter.sentry %}
    sentry.start(settings)
{%- endif %}
{%- endif %}


def post_worker_init(worker: Any) -> None:
    """Access lines are written in batches in a worker, not one system call per request.

    What the worker has loaded by now (modules, the app, its models and schemas: 80,000 to
    100,000 objects) is left out of the garbage collector's full collections, which otherwise
    walk it all every few ten thousand requests, 25-35 ms in which the worker answers nothing
    (docs/benchmarks.md, "full collections"). None of it is garbage: it lives as long as the
    worker.
    """
    from {{ cookiecutter.project_slug }}.core import access_log

    access_log.batch_access_lines()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """Write this worker's last access lines and metrics; close a Flask worker's pools and
    clients (FastAPI closes its own in the lifespan)."""
    from {{ cookiecutter.project_slug }}.core import (
        access_log,
        metrics,
{%- if cookiecutter.sentry %}
        sentry,
{%- endif %}
{%- if cookiecutter.opentelemetry %}
        tracing,
{%- endif %}
    )

    access_log.flush_access_lines()
    metrics.flush()
{%- if cookiecutter.opentelemetry %}
    tracing.shutdown()  # the spans still queued are exported before the worker goes
{%- endif %}
{%- if cookiecutter.sentry %}
    sentry.flush()  # the events still queued are sent before the worker goes
{%- endif %}
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None)
    if not isinstance(extensions, dict):
        return
    for close in reversed(extensions.get("closers", [])):
        try:
            close()
        except Exception:  # one failing closer must not keep the others open
            server.log.exception("closer_failed")


def on_exit(server: Any) -> None:
    for path in _temp_dirs:
        shutil.rmtree(path, ignore_errors=True)

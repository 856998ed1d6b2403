"""The worker, Dramatiq's, run with the settings:

    python -m {{ cookiecutter.project_slug }}.jobs

JOBS_PROCESSES processes of JOBS_THREADS threads consume JOBS_QUEUES; a process of its own
serves their summed metrics on JOBS_METRICS_ADDRESS:JOBS_METRICS_PORT. On SIGTERM the running
jobs get JOBS_SHUTDOWN_GRACE seconds; a job still running then is not acknowledged, and the
broker redelivers it once the worker's heartbeat is JOBS_HEARTBEAT_TIMEOUT old. Extra
arguments go to Dramatiq's command as they are (`--help` lists them).
"""

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.core.logs import (
    configure_logging,
)
from {{ cookiecutter.project_slug }}.jobs import ACTOR_MODULES

PACKAGE = "{{ cookiecutter.project_slug }}"


def arguments(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    """Dramatiq's command line for these settings."""
    return [
        f"{PACKAGE}.jobs.broker:broker",
        *ACTOR_MODULES,
        "--processes",
        str(settings.jobs_processes),
        "--threads",
        str(settings.jobs_threads),
        "--queues",
        *settings.jobs_queues,
        "--worker-shutdown-timeout",
        str(int(settings.jobs_shutdown_grace * 1000)),
        "--fork-function",
        f"{PACKAGE}.jobs.metrics:serve",
        # The service's own JSON lines (jobs.middleware), not Dramatiq's log format.
        "--skip-logging",
        *extra,
    ]


def metrics_directory() -> str:
    """PROMETHEUS_MULTIPROC_DIR, emptied: the files of a previous run would be summed in.
    Set before anything imports prometheus_client, so every process writes there."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, mode=0o700, exist_ok=True)
    else:
        directory = tempfile.mkdtemp(prefix=f"{PACKAGE}-worker-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def main(extra: Sequence[str] = ()) -> int:
    settings = get_settings()
    metrics_directory()
    configure_logging(settings.log_level, settings.json_logs)
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    # Dramatiq's command line is untyped.
    parser = make_argument_parser()  # type: ignore[no-untyped-call]
    parsed = parser.parse_args(arguments(settings, extra))
    result: int = dramatiq_main(parsed)  # type: ignore[no-untyped-call]
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The worker's liveness check:

    python -m {{ cookiecutter.project_slug }}.jobs.health

Exits 0 while the liveness file (JOBS_LIVENESS_FILE) is younger than JOBS_LIVENESS_MAX_AGE,
1 otherwise, with the reason on stderr. The compose healthcheck and the Kubernetes liveness
probe run it; under systemd the same beat goes to the unit's watchdog (WatchdogSec).
"""

import sys
import time
from pathlib import Path

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)


def problem(settings: Settings, now: float | None = None) -> str | None:
    """Why the worker does not look alive, or None."""
    path = Path(settings.liveness_path)
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"{path} does not exist: no worker has started here"
    if age > settings.jobs_liveness_max_age:
        return f"{path} is {age:.0f} s old (limit {settings.jobs_liveness_max_age:.0f} s)"
    return None


def main() -> int:
    found = problem(get_settings())
    if found is not None:
        sys.stderr.write(f"worker not alive: {found}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

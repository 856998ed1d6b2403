"""A production start refused for any reason names the setting and shows no secret, on stdout
(the JSON log) or stderr, whether the settings are loaded alone or by gunicorn."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

import pytest

from . import early
from .settings import SECRET

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "hunter2-Pw-9f3k"


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
PACKAGE = "{{ cookiecutter.project_slug }}"
SETTINGS = f"from {PACKAGE}.config import Settings; Settings()"
COMMANDS = {
    "settings": [sys.executable, "-c", SETTINGS],
    "gunicorn-check-config": [*GUNICORN, "--check-config"],
    "gunicorn": GUNICORN,
}


Started = dict[str, tuple["subprocess.Popen[bytes]", IO[str], IO[str]]]


def start_early(config: pytest.Config) -> Started:
    """Each command run in production with DEBUG on, which must refuse to start. All at once,
    when the run begins (tests/early.py): each spends its time importing the service."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env |= {
        "ENVIRONMENT": "production",
        "DEBUG": "true",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"postgresql://app:{PASSWORD}@db.internal:5432/app",
        "REDIS_URL": f"redis://:{PASSWORD}@redis.internal:6379/0",
        "BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": "1",
    }
    # Outside the project, so its .env is not read.
    folder = Path(tempfile.mkdtemp(prefix="refused-"))
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    started: Started = {}
    for name, command in COMMANDS.items():
        out, err = (folder / f"{name}.out").open("w+"), (folder / f"{name}.err").open("w+")
        # The test's own commands.
        proc = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=err)  # noqa: S603
        # Ended and closed even in a run stopped before the fixture below.
        config.add_cleanup(out.close)
        config.add_cleanup(err.close)
        config.add_cleanup(proc.kill)
        started[name] = (proc, out, err)
    return started


@pytest.fixture(scope="module")
def refusals(request: pytest.FixtureRequest) -> dict[str, tuple[int, str, str]]:
    """Each command's exit code, stdout and stderr."""
    started: Started = early.started(request)
    results = {}
    for name, (proc, out, err) in started.items():
        with out, err:
            code = proc.wait(timeout=60)
            out.seek(0)
            err.seek(0)
            results[name] = (code, out.read(), err.read())
    return results


@pytest.mark.parametrize("name", COMMANDS)
def test_a_refused_start_shows_no_secret(refusals, name):
    code, stdout, stderr = refusals[name]
    assert code != 0, (stdout, stderr)
    assert "DEBUG must be off" in stdout + stderr, (stdout, stderr)
    for stream in (stdout, stderr):
        assert PASSWORD not in stream
        assert SECRET not in stream
        # pydantic shortens what it echoes, so a secret can hide in the cut: it must echo none.
        assert "input_value" not in stream

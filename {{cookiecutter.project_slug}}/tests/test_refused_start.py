"""A production start refused for any reason names the setting and shows no secret, on stdout
(the JSON log) or stderr, whether the settings are loaded alone or by gunicorn."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .settings import SECRET

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "hunter2-Pw-9f3k"


def refused(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `command` in production with DEBUG on, which must refuse to start."""
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
    result = subprocess.run(  # noqa: S603 (the test's own commands)
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0, result
    assert "DEBUG must be off" in result.stdout + result.stderr, result
    return result


GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
PACKAGE = "{{ cookiecutter.project_slug }}"
SETTINGS = f"from {PACKAGE}.config import Settings; Settings()"


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-c", SETTINGS], id="settings"),
        pytest.param([*GUNICORN, "--check-config"], id="gunicorn-check-config"),
        pytest.param(GUNICORN, id="gunicorn"),
    ],
)
def test_a_refused_start_shows_no_secret(command, tmp_path):
    result = refused(command, tmp_path)
    for stream in (result.stdout, result.stderr):
        assert PASSWORD not in stream
        assert SECRET not in stream
        # pydantic shortens what it echoes, so a secret can hide in the cut: it must echo none.
        assert "input_value" not in stream

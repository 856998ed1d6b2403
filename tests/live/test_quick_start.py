"""The README's first command, typed as a new user on a stock Debian would: the system
`/usr/bin/python3`, which is externally managed (PEP 668), in a fresh copy of the template."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.template import ROOT, quick_start

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _marker(python: Path) -> Path:
    stdlib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(stdlib) / "EXTERNALLY-MANAGED"


def test_quick_start_generates_a_project_with_an_externally_managed_python3(tmp_path):
    if not SYSTEM_PYTHON.exists() or not _marker(SYSTEM_PYTHON).exists():
        pytest.skip("no externally managed /usr/bin/python3 on this machine")
    # The old first step is refused there: the reason the quick start starts with a venv.
    refused = subprocess.run(
        [SYSTEM_PYTHON, "-m", "pip", "install", "--dry-run", "cookiecutter"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "externally-managed-environment" in refused.stdout + refused.stderr

    # A clean copy of the template, as a clone gives (no .venv, caches or baked projects).
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    clone = tmp_path / "cookiecutter-backend"
    for name in filter(None, tracked.split("\0")):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)

    # `python3` is the system one: first on PATH, with no venv of the test run's active.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(SYSTEM_PYTHON)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PATH"] = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    env["HOME"] = str(tmp_path)

    command = quick_start()["Generate a project with the default answers"]
    run = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    venv_python = clone / ".venv" / "bin" / "python"
    assert venv_python.resolve() == SYSTEM_PYTHON.resolve()
    project = clone / "my_service"
    assert (project / "pyproject.toml").is_file()
    assert (project / "src" / "my_service" / "app.py").is_file()

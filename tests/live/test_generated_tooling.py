"""Generated projects pass everything their CI runs (`make check`: ruff, mypy strict, tests
with coverage of 90% or more), and their pytest configuration enforces that floor."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

COMBOS = [
    {"framework": "fastapi"},
    {"framework": "flask"},
    {"framework": "fastapi", "database": "postgresql", "use_redis": True, "deployment": "vm"},
    {"framework": "flask", "database": "mysql", "use_redis": True, "deployment": "vm"},
    {"framework": "fastapi", "database": "none", "deployment": "paas"},
    {"framework": "flask", "database": "none", "deployment": "kubernetes"},
]


def run(cmd: list[str], cwd: Path, uv: str) -> subprocess.CompletedProcess:
    # The Makefile calls `uv` by name.
    env = {**os.environ, "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.mark.parametrize("answers", COMBOS, ids=lambda a: "-".join(map(str, a.values())))
def test_make_check_is_green(bake, uv, answers):
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed (apt-get install make)")
    project = bake(**answers)
    synced = run([uv, "sync", "--quiet"], project, uv)
    assert synced.returncode == 0, synced.stderr

    result = run([make, "check"], project, uv)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Success: no issues found" in output  # mypy --strict
    total = re.search(r"^TOTAL\s.*\s(\d+(?:\.\d+)?)%$", output, re.MULTILINE)
    assert total is not None, output
    assert float(total.group(1)) >= 90
    hooks = run([uv, "run", "--no-sync", "pre-commit", "validate-config"], project, uv)
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr


def test_coverage_floor_is_enforced(bake, uv):
    """A module the tests never touch pulls coverage under 90% and fails the suite."""
    project = bake()
    untested = "\n".join(f"def f{i}(x: int) -> int:\n    return x + {i}\n" for i in range(200))
    (project / "src" / "my_service" / "untested.py").write_text(untested, encoding="utf-8")
    assert run([uv, "sync", "--quiet"], project, uv).returncode == 0
    result = run([uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], project, uv)
    assert result.returncode != 0
    assert "Required test coverage of 90% not reached" in result.stdout

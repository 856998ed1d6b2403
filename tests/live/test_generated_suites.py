"""Generated projects install with uv and pass their own test suites."""

import subprocess

import pytest


def run(cmd, cwd, timeout=600):
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_default_project_tests_green(bake, uv, framework):
    project = bake(framework=framework)
    run([uv, "sync", "--quiet"], project)
    result = run([uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert " passed" in result.stdout
    assert " failed" not in result.stdout

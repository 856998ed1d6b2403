"""Generated projects install with uv and pass their own test suites."""

import subprocess

import pytest


def run(cmd, cwd, timeout=600):
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result


# Flask's project has a name of its own: nothing in a generated suite may assume the default
# one (the auth tests once expected the realm "my-service" whatever the project was called).
@pytest.mark.parametrize(
    ("framework", "name"), [("fastapi", None), ("flask", "Orders API")], ids=["fastapi", "flask"]
)
def test_default_project_tests_green(bake, uv, framework, name):
    project = bake(framework=framework, **({"project_name": name} if name else {}))
    run([uv, "sync", "--quiet"], project)
    result = run([uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert " passed" in result.stdout
    assert " failed" not in result.stdout

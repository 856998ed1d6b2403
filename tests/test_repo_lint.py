"""The template's own Python (tests, benchmarks) is held to ruff like the projects it makes."""

import subprocess

import pytest

from tests.conftest import find_tool
from tests.template import ROOT

# The project template and the hooks hold Jinja, so ruff sees them only once rendered (test_bake).
OWN_CODE = ["tests", "benchmarks"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_own_code_is_ruff_clean(command):
    result = subprocess.run(
        [find_tool("ruff"), *command, *OWN_CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

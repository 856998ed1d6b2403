"""The template's own Python (hooks, tests, benchmarks) is held to ruff like the projects it
makes."""

import subprocess

import pytest

from tests.conftest import find_tool
from tests.helpers.template import ROOT

# The project template holds Jinja, so ruff sees it only once rendered (test_bake). The hooks
# keep theirs in one expression that is valid Python as it stands.
OWN_CODE = ["hooks", "tests", "benchmarks"]


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

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.template import ROOT, defaults

# Real database and cache servers for the live tiers.
pytest_plugins = ["tests.services"]


def pytest_configure(config):
    # One uv cache for every generated project in the run (and across runs).
    os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    # Generated projects pin the chosen Python in .python-version, which uv would download;
    # the tests use the interpreter they run on instead (the package supports 3.11+).
    os.environ.setdefault("UV_PYTHON", f"{sys.version_info.major}.{sys.version_info.minor}")


@pytest.fixture
def bake(cookies):
    """Bake with the given answers; fail with cookiecutter's message otherwise."""

    def _bake(**answers) -> Path:
        result = cookies.bake(extra_context=answers)
        if result.exit_code != 0:
            raise AssertionError(f"bake failed for {answers}: {result.exception}")
        return Path(result.project_path)

    return _bake


@pytest.fixture(scope="session")
def uv() -> str:
    return find_tool("uv")


@pytest.fixture(scope="session")
def default_answers() -> dict:
    return defaults()


def find_tool(name: str) -> str:
    """A command installed beside this interpreter (by `pip install -e .[test]`), or on PATH."""
    beside = Path(sys.executable).parent / name
    path = str(beside) if beside.is_file() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `pip install -e .[test]` first")
    return path

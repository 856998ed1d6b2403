import os
import shutil
from pathlib import Path

import pytest

from tests.template import ROOT, defaults


def pytest_configure(config):
    # One uv cache for every generated project in the run (and across runs).
    os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))


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
    path = shutil.which("uv")
    if path is None:
        pytest.fail("uv is not installed: run `pip install -e .[test]` first")
    return path


@pytest.fixture(scope="session")
def default_answers() -> dict:
    return defaults()

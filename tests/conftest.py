import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers.template import ROOT, defaults

# Real database and cache servers for the live tiers.
pytest_plugins = ["tests.helpers.servers"]

TESTS = Path(__file__).parent
# A test's tier is the folder it lives in: these are the markers each folder's tests carry,
# so `-m "not live"` selects tests/fast/, `-m live` tests/live/ and tests/drills/, and
# `-m drill` tests/drills/.
TIER_MARKERS = {"fast": (), "live": ("live",), "drills": ("live", "drill")}


def pytest_configure(config):
    # One uv cache for every generated project in the run (and across runs).
    os.environ.setdefault("UV_CACHE_DIR", str(ROOT / ".cache" / "uv"))
    # Generated projects pin the chosen Python in .python-version, which uv would download;
    # the tests use the interpreter they run on instead (the package supports 3.11+).
    os.environ.setdefault("UV_PYTHON", f"{sys.version_info.major}.{sys.version_info.minor}")
    if not hasattr(config, "workerinput"):  # the controller, once per run
        DRILL_SUMMARY.unlink(missing_ok=True)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue
        tier = item.path.relative_to(TESTS).parts[0]
        if tier not in TIER_MARKERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live in a tier folder ({', '.join(TIER_MARKERS)}), "
                "which gives them their markers"
            )
        for marker in TIER_MARKERS[tier]:
            item.add_marker(marker)


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


# Drills run in xdist workers; each appends its figures here and the controller prints them.
DRILL_SUMMARY = ROOT / ".cache" / "drill-summary.jsonl"


@pytest.fixture
def drill_record(request):
    def _record(drill: str, **figures) -> None:
        DRILL_SUMMARY.parent.mkdir(parents=True, exist_ok=True)
        row = {"combo": request.node.callspec.id, "drill": drill, **figures}
        with DRILL_SUMMARY.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")

    return _record


def collect_drill_rows(config) -> list[dict]:
    if not DRILL_SUMMARY.exists():
        return []
    lines = DRILL_SUMMARY.read_text(encoding="utf-8").splitlines()
    return sorted((json.loads(line) for line in lines if line), key=lambda r: r["combo"])


def pytest_terminal_summary(terminalreporter, config):
    """The drills' table: what each drill sent, what failed, what it survived."""
    rows = collect_drill_rows(config)
    if not rows:
        return
    write = terminalreporter.write_line
    write("")
    write("Production drills")
    write("| combination | drill | requests | inputs | faults | errors |")
    write("| --- | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        write(
            f"| {row['combo']} | {row['drill']} | {row.get('sent', 0)} | {row.get('inputs', 0)} "
            f"| {row.get('faults', 0)} | {row.get('errors', 0)} |"
        )
    totals = {k: sum(r.get(k, 0) for r in rows) for k in ("sent", "inputs", "faults", "errors")}
    write(
        f"| **all** | {len(rows)} drills | {totals['sent']} | {totals['inputs']} "
        f"| {totals['faults']} | {totals['errors']} |"
    )

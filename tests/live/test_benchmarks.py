"""The benchmark command keeps working. It runs in smoke mode (a second per figure) and
nothing here judges speed: the figures are printed, never asserted."""

import importlib.util
import re
import subprocess
import sys

from tests.helpers.template import ROOT

_spec = importlib.util.spec_from_file_location("benchmark_run", ROOT / "benchmarks" / "run.py")
BENCHMARK = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = BENCHMARK  # its dataclasses look their module up there
_spec.loader.exec_module(BENCHMARK)


def test_benchmark_smoke_run_prints_every_figure():
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for heading in (
        "## Throughput and latency",
        "## Authentication cost",
        "## Idle resident memory of one worker",
        "## From process start to the first 200 on /health/ready",
        "## Bake time per combination",
        "| cookiecutter itself, a one-file template",
        "| this template's tree with both hooks empty",
        "## From bake to green tests",
        "## Background jobs",
        "## Tracing cost",
    ):
        assert heading in out, out
    for framework in ("fastapi", "flask"):
        for label in (
            "GET /status` (sqlite)",
            "GET /status` (sqlite, unpinned)",
            "GET /health/ready` (sqlite)",
            "GET /api/v1/items` (sqlite)",
            "GET /api/v1/items/10` (sqlite)",
            "POST /api/v1/items` (sqlite)",
        ):
            row = re.search(rf"^\| {framework} \| `{re.escape(label)} \|(.*)$", out, re.M)
            assert row, f"no {framework} {label} row:\n{out}"
            # generated req/s, bare req/s and their ratio are real numbers.
            cells = [c.strip() for c in row.group(1).split("|")]
            assert float(cells[0].replace(",", "")) > 0 and float(cells[1].replace(",", "")) > 0
            assert cells[2].endswith("%")
        # Checking the API key, side by side with the same project without auth.
        row = re.search(rf"^\| {framework} \| ([\d,]+) \| ([\d,]+) \| ([+-]\d+) \|", out, re.M)
        assert row, f"no {framework} authentication cost row:\n{out}"
        assert int(row.group(1).replace(",", "")) > 0 and int(row.group(2).replace(",", "")) > 0
    for framework in ("fastapi", "flask"):
        variants = (*BENCHMARK.TRACING_VARIANTS, *BENCHMARK.SENTRY_VARIANTS)
        for label, _env in variants:
            row = re.search(rf"^\| {framework} \| {re.escape(label)} \|(.*)$", out, re.M)
            assert row, f"no {framework} {label} row:\n{out}"
            assert float(row.group(1).split("|")[0].strip().replace(",", "")) > 0

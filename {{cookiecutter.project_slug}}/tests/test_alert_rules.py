"""The alert rules (deploy/prometheus/): every alert has its runbook entry, and promtool, where
installed (Debian's prometheus package), checks them and runs their unit tests."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
PROMTOOL = shutil.which("promtool")


def alert_names() -> list[str]:
    return re.findall(r"^ +- alert: (\w+)$", RULES.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_alert_has_a_runbook_entry_and_links_it():
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    rules = RULES.read_text(encoding="utf-8")
    assert alert_names()
    for name in alert_names():
        assert f"\n## {name}\n" in runbook, name
        assert f"runbook: docs/runbook.md#{name.lower()}\n" in rules, name


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
@pytest.mark.parametrize(
    "command", [["check", "rules", "alerts.yaml"], ["test", "rules", "alerts.test.yaml"]]
)
def test_promtool_passes_the_rules_and_their_unit_tests(command):
    done = subprocess.run(  # noqa: S603 (the test's own command)
        [str(PROMTOOL), *command],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

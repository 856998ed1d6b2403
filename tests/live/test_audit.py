"""The generated dependency audit as CI runs it (scripts/audit.sh), up to pip-audit's own
collection of what uv.lock pins: `--dry-run`, since the advisory lookup needs PyPI's JSON API,
which CI has and this tier may not."""

import re
import subprocess


def test_audit_script_collects_every_locked_package_with_its_waivers(bake, uv):
    project = bake(ci="github")
    subprocess.run([uv, "lock", "--quiet"], cwd=project, check=True, timeout=300)
    lock = (project / "uv.lock").read_text()
    locked = len(re.findall(r"^\[\[package\]\]$", lock, re.M)) - 1  # less the project itself
    # Packages some edge pulls in only under a marker (another platform or Python): pip-audit
    # skips those whose marker is false here.
    conditional = set(re.findall(r'\{ name = "([^"]+)", marker = ', lock))
    with (project / "audit-waivers.txt").open("a") as waivers:
        waivers.write("GHSA-aaaa-bbbb-cccc  not reachable from the service; until 2.4.1\n")

    result = subprocess.run(
        ["sh", "scripts/audit.sh", "--dry-run", "--verbose"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    audited = int(re.search(r"would have audited (\d+) packages", output).group(1))
    # Every locked package, all dependency groups included, but those for another platform.
    assert locked - len(conditional) <= audited <= locked, (audited, locked, conditional)
    assert "ignore_vulns=['GHSA-aaaa-bbbb-cccc']" in output  # the waiver reached pip-audit

"""CI files: every GitHub workflow passes actionlint and zizmor with its actions pinned to
commit SHAs, every .gitlab-ci.yml is the same pipeline; both audit the locked dependencies and
keep the image's SBOM and provenance."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import find_tool
from tests.helpers.checks import rendered_images
from tests.helpers.template import ROOT, expected_images

# Every database x Redis combination once per CI, with each CI stage set.
COMBOS = [
    {"database": database, "use_redis": redis, "deployment": deployment, "ci": ci}
    for ci in ("github", "gitlab")
    for database, redis, deployment in (
        ("sqlite", False, "vm"),
        ("sqlite", True, "docker-compose"),
        ("postgresql", True, "kubernetes"),
        ("postgresql", False, "paas"),
        ("mysql", True, "docker-compose"),
        ("mysql", False, "vm"),
        ("none", True, "kubernetes"),
        ("none", False, "paas"),
    )
]
CONTAINER_TARGETS = {"docker-compose", "kubernetes"}
# Top-level .gitlab-ci.yml keys that are not jobs.
GITLAB_GLOBALS = {"stages", "include", "workflow", "variables", "default"}


def deep_merge(base: dict, override: dict) -> dict:
    """GitLab's merge for `extends`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def gitlab_pipeline(project: Path) -> dict:
    """.gitlab-ci.yml as GitLab reads it: each local include whose `exists` rule matches
    merged in (a missing file fails, as in GitLab), then every job's `extends` resolved."""
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    for entry in pipeline.get("include", []):
        rules = entry.get("rules")
        if rules and not any(any((project / f).exists() for f in r["exists"]) for r in rules):
            continue
        pipeline |= yaml.safe_load((project / entry["local"]).read_text(encoding="utf-8"))

    def resolve(name: str) -> dict:
        job = pipeline[name]
        parents = job.get("extends", [])
        merged: dict = {}
        for parent in [parents] if isinstance(parents, str) else parents:
            merged = deep_merge(merged, resolve(parent))
        return deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})

    return {
        name: resolve(name) if name not in GITLAB_GLOBALS else value
        for name, value in pipeline.items()
    }


@pytest.fixture(scope="session")
def actionlint() -> str:
    return find_tool("actionlint")


# `uses: owner/repo@<40 hex>  # v1.2.3`: dependabot raises the SHA and the comment together.
PINNED = re.compile(r"^\s*(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+(\.\d+)*$")


def zizmor(project: Path) -> str:
    """zizmor's findings (default severity and confidence) on the workflows and dependabot
    config; offline, so only what the files themselves say. Empty when there are none."""
    result = subprocess.run(
        [find_tool("zizmor"), "--offline", "--no-progress", "--color=never", ".github"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else f"exit {result.returncode}\n{result.stdout}"


def lint(actionlint: str, files: list[Path]) -> str:
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def test_template_repository_workflows_pass_actionlint_and_zizmor(actionlint):
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert files, "the template repository has its own workflow"
    assert lint(actionlint, files) == ""
    assert zizmor(ROOT) == ""
    for workflow in files:
        uses = [ln for ln in workflow.read_text().splitlines() if "uses:" in ln]
        assert uses and all(PINNED.match(line) for line in uses), uses


@pytest.mark.parametrize(
    "answers", COMBOS, ids=lambda a: "-".join(str(v).lower() for v in a.values())
)
def test_generated_ci_files(bake, actionlint, answers):
    project = bake(**answers)
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    gitlab = project / ".gitlab-ci.yml"
    container = answers["deployment"] in CONTAINER_TARGETS

    if answers["ci"] == "github":
        assert not gitlab.exists()
        names = {p.name for p in workflows}
        assert names == ({"ci.yml", "container.yml"} if container else {"ci.yml"})
        assert lint(actionlint, workflows) == ""
        assert zizmor(project) == ""
        for workflow in workflows:
            uses = [ln for ln in workflow.read_text().splitlines() if "uses:" in ln]
            assert uses and all(PINNED.match(line) for line in uses), uses
        dependabot = yaml.safe_load((project / ".github/dependabot.yml").read_text())
        assert "github-actions" in {u["package-ecosystem"] for u in dependabot["updates"]}
        jobs = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]
        assert set(jobs) == {"lint", "audit", "typecheck", "test"}
        assert {"run": "sh scripts/audit.sh"} in jobs["audit"]["steps"]
        if container:
            build = yaml.safe_load((project / ".github/workflows/container.yml").read_text())
            attested = [
                s["with"] for s in build["jobs"]["build"]["steps"] if "sbom" in s.get("with", {})
            ]
            assert attested == [
                {
                    **attested[0],
                    "sbom": True,
                    "provenance": "mode=max",
                    "outputs": "type=local,dest=image",
                }
            ]
        services = set(jobs["test"].get("services", {}))
        env = jobs["test"]["env"]
    else:
        assert workflows == []
        pipeline = gitlab_pipeline(project)
        # GitLab skips the build stage when no job is in it.
        assert pipeline["stages"] == ["lint", "audit", "typecheck", "test", "build"]
        # Hidden jobs (".name") are templates for `extends`, never run.
        jobs = {n for n in pipeline if n not in GITLAB_GLOBALS and not n.startswith(".")}
        expected_jobs = {"lint", "audit", "typecheck", "test", *(["build"] if container else [])}
        assert jobs == expected_jobs
        assert pipeline["audit"]["script"] == ["sh scripts/audit.sh"]
        if container:
            script = " ".join(pipeline["build"]["script"])
            assert "--sbom=true --provenance=mode=max" in script
            assert pipeline["build"]["artifacts"]["paths"] == ["attestations/"]
        assert all(pipeline[job]["stage"] == job for job in jobs)
        assert pipeline["test"]["variables"]["ENVIRONMENT"] == "test"
        services = {s["alias"] for s in pipeline["test"].get("services", [])}
        env = pipeline["test"]["variables"]

    # The test job talks to real servers of exactly the chosen kinds.
    expected = {"postgresql": {"postgres"}, "mysql": {"mysql"}}.get(answers["database"], set())
    expected |= {"redis"} if answers["use_redis"] else set()
    assert services == expected
    assert ("DATABASE_URL" in env) == (answers["database"] in {"postgresql", "mysql"})
    assert ("REDIS_URL" in env) == answers["use_redis"]
    found = rendered_images(project)
    assert found == {k: v for k, v in expected_images(answers).items() if k in found}


def test_ci_none_has_no_ci_files(bake):
    project = bake(ci="none")
    assert not (project / ".github").exists()
    assert not (project / ".gitlab-ci.yml").exists()


def test_audit_refuses_a_waiver_without_a_reason(bake, tmp_path):
    """scripts/audit.sh reads audit-waivers.txt before it audits anything: an ID alone stops it
    with the line named; the audit itself needs PyPI's JSON API (CI has it)."""
    project = bake(ci="github")
    waivers = project / "audit-waivers.txt"
    assert all(line.startswith("#") for line in waivers.read_text().splitlines())
    with waivers.open("a") as file:
        file.write("GHSA-aaaa-bbbb-cccc  only the CLI is affected; until 2.4.1\nPYSEC-2026-1\n")
    result = subprocess.run(
        ["sh", "scripts/audit.sh"], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr == "audit-waivers.txt:6: PYSEC-2026-1 is waived without a reason\n"

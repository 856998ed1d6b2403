"""CI files: every GitHub workflow passes actionlint, every .gitlab-ci.yml is the same pipeline."""

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


def lint(actionlint: str, files: list[Path]) -> str:
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def test_template_repository_workflows_pass_actionlint(actionlint):
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert files, "the template repository has its own workflow"
    assert lint(actionlint, files) == ""


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
        jobs = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]
        assert set(jobs) == {"lint", "typecheck", "test"}
        services = set(jobs["test"].get("services", {}))
        env = jobs["test"]["env"]
    else:
        assert workflows == []
        pipeline = gitlab_pipeline(project)
        # GitLab skips the build stage when no job is in it.
        assert pipeline["stages"] == ["lint", "typecheck", "test", "build"]
        # Hidden jobs (".name") are templates for `extends`, never run.
        jobs = {n for n in pipeline if n not in GITLAB_GLOBALS and not n.startswith(".")}
        assert jobs == {"lint", "typecheck", "test", *(["build"] if container else [])}
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

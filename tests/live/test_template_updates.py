"""A project created with cruft from one template commit updates cleanly to a later one."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import find_tool
from tests.helpers.template import ROOT

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info"
)
NEW_EDITORCONFIG_SECTION = "\n[*.md]\ntrim_trailing_whitespace = false\n"


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def ok(cmd: list[str], cwd: Path) -> str:
    result = run(cmd, cwd)
    assert result.returncode == 0, f"{' '.join(cmd)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def commit(repo: Path, message: str) -> str:
    ok(["git", "add", "-A"], repo)
    ok(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message], repo)
    return ok(["git", "rev-parse", "HEAD"], repo).strip()


@pytest.fixture(scope="session")
def cruft() -> str:
    return find_tool("cruft")


@pytest.fixture
def template_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A git copy of this template with two commits: as it is, then a small release."""
    repo = tmp_path / "template"
    shutil.copytree(ROOT, repo, ignore=IGNORED)
    ok(["git", "init", "-q", "-b", "main"], repo)
    first = commit(repo, "template as it is")

    config_path = repo / "cookiecutter.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["_template_version"] = "9.9.9"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    editorconfig = repo / "{{cookiecutter.project_slug}}" / ".editorconfig"
    editorconfig.write_text(editorconfig.read_text() + NEW_EDITORCONFIG_SECTION)
    second = commit(repo, "a later template release")
    return repo, first, second


def test_cruft_project_checks_and_updates_to_a_later_template(tmp_path, cruft, template_repo):
    repo, first, second = template_repo
    out = tmp_path / "out"
    ok(
        [cruft, "create", "--no-input", "--checkout", first, "--output-dir", str(out), str(repo)],
        tmp_path,
    )
    project = out / "my_service"
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == first
    assert state["context"]["cookiecutter"]["framework"] == "fastapi"
    env_before = (project / ".env").read_text(encoding="utf-8")
    # The hook ran under cruft too: variants merged, manifest applied and removed.
    assert (project / "src" / "my_service" / "app.py").is_file()
    assert not (project / ".template-manifest.yaml").exists()

    ok(["git", "init", "-q", "-b", "main"], project)
    commit(project, "generated")
    # The project is behind the template: check says so and fails.
    behind = run([cruft, "check"], project)
    assert behind.returncode != 0, behind.stdout

    ok([cruft, "update", "--skip-apply-ask"], project)

    assert run([cruft, "check"], project).returncode == 0
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == second
    assert (project / ".editorconfig").read_text().endswith(NEW_EDITORCONFIG_SECTION)
    assert "version\n9.9.9" in (project / "README.md").read_text(encoding="utf-8")
    assert "cookiecutter-backend 9.9.9" in (project / ".template-answers.yaml").read_text()
    # The project's own secret survives the update.
    assert (project / ".env").read_text(encoding="utf-8") == env_before
    assert not list(project.rglob("*.rej"))

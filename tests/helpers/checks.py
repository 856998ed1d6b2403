"""Checks every rendered project must pass, shared by the bake tests."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

JINJA_LEFTOVER = re.compile(r"\{\{\s*cookiecutter|\{%|\{#")
ALLOWED_EMPTY = {"__init__.py", "py.typed"}
# Files whose own syntax uses {% or {{ legitimately.
JINJA_EXEMPT_SUFFIXES = {".png"}


def text_files(project: Path):
    for path in sorted(project.rglob("*")):
        if ".venv" in path.parts or not path.is_file():
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def problems(project: Path) -> list[str]:
    """Everything wrong with a rendered project, as readable lines."""
    found = []
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if path.is_dir() and not any(path.iterdir()):
            found.append(f"{rel}/: empty folder")
        if path.is_file() and path.stat().st_size == 0 and path.name not in ALLOWED_EMPTY:
            found.append(f"{rel}: empty file")
    for path, text in text_files(project):
        rel = path.relative_to(project)
        if (
            path.suffix not in JINJA_EXEMPT_SUFFIXES
            and JINJA_LEFTOVER.search(text)
            and not _tool_syntax(path, text)
        ):
            found.append(f"{rel}: leftover Jinja")
        if "\n\n\n\n" in text or (path.suffix != ".py" and "\n\n\n" in text):
            found.append(f"{rel}: run of blank lines")
        if text and not text.endswith("\n"):
            found.append(f"{rel}: no final newline")
        if text.startswith("\n"):
            found.append(f"{rel}: starts with a blank line")
        try:
            _parse(path, text)
        except Exception as exc:
            found.append(f"{rel}: does not parse: {exc}")
    return found


def _tool_syntax(path: Path, text: str) -> bool:
    """GitHub workflows use ${{ }} themselves; that is not Jinja left over."""
    stripped = re.sub(r"\$\{\{.*?\}\}", "", text)
    return not JINJA_LEFTOVER.search(stripped)


def _parse(path: Path, text: str) -> None:
    if path.suffix == ".py":
        compile(text, str(path), "exec")
    elif path.suffix == ".toml":
        tomllib.loads(text)
    elif path.suffix in {".yaml", ".yml"}:
        list(yaml.safe_load_all(text))
    elif path.suffix == ".json":
        json.loads(text)


def ruff(project: Path) -> list[str]:
    found = []
    for args in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            found.append(f"ruff {args[0]}:\n{result.stdout}{result.stderr}")
    return found


def rendered_images(project: Path) -> dict[str, dict[str, str]]:
    """Every image a baked project's files name, by file, then by service, job or stage."""

    def load(name: str):
        path = project / name
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None

    found: dict[str, dict[str, str]] = {}
    if compose := load("compose.yaml"):
        services = compose["services"]
        found["compose.yaml"] = {n: s["image"] for n, s in services.items() if "image" in s}
    if workflow := load(".github/workflows/ci.yml"):
        services = workflow["jobs"]["test"].get("services", {})
        found[".github/workflows/ci.yml"] = {n: s["image"] for n, s in services.items()}
    if (gitlab := load(".gitlab/ci/test-services.yml")) is not None:
        services = gitlab[".test-services"].get("services", [])
        found[".gitlab/ci/test-services.yml"] = {s["alias"]: s["name"] for s in services}
    if pipeline := load(".gitlab-ci.yml"):
        found[".gitlab-ci.yml"] = {n: j["image"] for n, j in pipeline.items() if "image" in j}
    if build := load(".gitlab/ci/build.yml"):
        job = build["build"]
        found[".gitlab/ci/build.yml"] = {"build": job["image"], "build/dind": job["services"][0]}
    dockerfile = project / "Dockerfile"
    if dockerfile.is_file():
        text = dockerfile.read_text(encoding="utf-8")
        stages = re.findall(r"^FROM (\S+) AS (\S+)$", text, flags=re.M)
        found["Dockerfile"] = {stage: image for image, stage in stages}
        found["Dockerfile"] |= dict(re.findall(r"^# (syntax)=(\S+)$", text, flags=re.M))
    return found

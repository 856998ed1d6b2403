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

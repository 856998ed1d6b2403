"""Answers with quotes, apostrophes and non-ASCII letters still give valid files."""

import tomllib

import pytest

from tests.helpers.checks import problems, ruff

AWKWARD = {
    "project_name": 'Zoë\'s "Quoted" Café',
    "author_name": "Renée O'Brien-Łukasz \\ Jr.",
    "description": "Serves café orders: 'fast', \"safe\" & <cheap> — {braces} \\ backslash.",
}


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_awkward_answers_render_valid_files(bake, framework):
    project = bake(**AWKWARD, framework=framework)

    assert project.name == "zoe_s_quoted_cafe"
    assert problems(project) == []
    assert ruff(project) == []
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == AWKWARD["description"]
    assert meta["authors"][0]["name"] == AWKWARD["author_name"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {AWKWARD['project_name']}\n")

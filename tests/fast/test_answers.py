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


# The longest name the template promises to render clean: every line that holds the package
# name must still fit ruff's 99 columns, and imports must sort the same whatever the name.
LONG_NAME = "Northwind Fulfilment And Inventory Platform Core Service Api"


@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "fastapi", "database": "postgresql", "use_redis": True},
        {"framework": "flask", "database": "mysql", "use_redis": True},
        {"framework": "fastapi", "database": "none", "use_redis": False},
        {"framework": "flask", "database": "sqlite", "use_redis": False},
    ],
    ids=lambda a: "-".join(map(str, a.values())),
)
def test_a_sixty_character_name_renders_clean(bake, answers):
    project = bake(project_name=LONG_NAME, **answers)

    assert len(project.name) == len(LONG_NAME) == 60
    assert problems(project) == []
    assert ruff(project) == []

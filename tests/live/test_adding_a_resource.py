"""The generated README's "Adding a resource" works as written: a team that follows it gets an
`orders` resource with green tests, a clean schema, clean lint and types, and routes served."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(readme: str, title: str) -> str:
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def run(command: str, project: Path, uv: str) -> str:
    env = {
        **os.environ,
        # The README's commands call `uv` by name.
        "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",
        "ENVIRONMENT": "development",
    }
    # The project's own environment, not the one these tests run in.
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}\n{output}"
    return output


def register(path: Path, snippet: str, anchor: str) -> None:
    """Apply a README snippet as a person would: its import goes after `anchor`, and each of
    its other lines replaces the line of the file that starts with the same name."""
    text = path.read_text(encoding="utf-8")
    imports, _, assignments = snippet.strip().partition("\n\n")
    assert anchor in text, f"{path.name} has no line {anchor!r}"
    text = text.replace(anchor, f"{anchor}\n{imports}", 1)
    for line in assignments.splitlines():
        name = line.split(":")[0].split("=")[0].strip()
        old = re.search(rf"^{re.escape(name)}\b.*$", text, re.MULTILINE)
        assert old is not None, f"{path.name} has no line for {name}"
        text = text[: old.start()] + line + text[old.end() :]
    path.write_text(text, encoding="utf-8")


def passed(output: str) -> int:
    found = re.search(r"\b(\d+) passed", output)
    assert found is not None, output
    return int(found.group(1))


ROUTES = {
    "fastapi": (
        "from fastapi.testclient import TestClient\n"
        "from my_service.app import create_app\n"
        "print(json.dumps(TestClient(create_app()).get('/api/routes').json()))"
    ),
    "flask": (
        "from my_service.app import create_app\n"
        "print(json.dumps(create_app().test_client().get('/api/routes').get_json()))"
    ),
}


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_readme_steps_add_a_working_resource(bake, uv, framework):
    project = bake(framework=framework, database="sqlite")
    steps = section((project / "README.md").read_text(encoding="utf-8"), "Adding a resource")
    blocks = FENCE.findall(steps)
    assert [kind for kind, _ in blocks] == ["sh", "python", "python", "sh"], steps
    (_, copy), (_, mount), (_, models), (_, migrate_and_test) = blocks
    package = project / "src" / "my_service"
    run("uv sync --quiet", project, uv)

    run(copy, project, uv)
    register(package / "app.py", mount, "from my_service.items import routes as items")
    register(package / "db" / "models.py", models, "from my_service.items.models import Item")
    output = run(migrate_and_test, project, uv)

    assert re.search(r"\b\d+ passed", output), output
    assert list((project / "migrations" / "versions").glob("*_create_orders.py"))
    run("uv run --no-sync alembic check", project, uv)
    run("uv run --no-sync ruff check . && uv run --no-sync ruff format --check .", project, uv)
    assert "Success: no issues found" in run("uv run --no-sync mypy", project, uv)
    counts = {
        resource: passed(run(f"uv run --no-sync pytest -q --no-cov tests/{resource}", project, uv))
        for resource in ("items", "orders")
    }
    assert counts["orders"] == counts["items"] > 0, counts
    listed = run(f'uv run --no-sync python -c "import json\n{ROUTES[framework]}"', project, uv)
    routes = json.loads(next(line for line in listed.splitlines() if line.startswith("{")))
    paths = {route["path"] for route in routes["routes"]}
    assert "/api/v1/orders" in paths
    assert any(path.startswith("/api/v1/orders/") for path in paths)
    assert "/api/v1/items" in paths

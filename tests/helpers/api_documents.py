"""The committed API documents of fresh projects, `_templates/openapi-<framework>.json`.

A baked project commits the document its app serves (`make openapi` writes it; its test
compares). Writing it at bake time would mean installing the project's dependencies inside
cookiecutter (seconds, and the network), so the template carries it instead, one Jinja file
per framework: the documents of the answers that change it (auth; no database, a database,
a database with background jobs), generated from real bakes and merged here, each difference
a Jinja condition. `python -m tests.helpers.api_documents` writes them after a change to the
routes or models; tests/live/test_api_documents.py fails when they are stale.
"""

import itertools
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookiecutter.environment import StrictEnvironment
from cookiecutter.main import cookiecutter

from tests.helpers.template import ROOT, SHARED_TEMPLATES, context

AUTH = ("api-key", "jwt", "none")
# What the document shows of the data answers: no items, items, items with processed_at.
DATA = {
    "none": {"database": "none"},
    "items": {"database": "sqlite"},
    "jobs": {"database": "sqlite", "use_redis": True, "background_jobs": True},
}
DATA_CONDITIONS = {
    "none": 'cookiecutter.database == "none"',
    "items": 'cookiecutter.database != "none" and not cookiecutter.background_jobs',
    "jobs": 'cookiecutter.database != "none" and cookiecutter.background_jobs',
}
COMBOS = tuple(itertools.product(AUTH, DATA))
# The strings a project's answers fill in, as generated from the default answers.
TITLE = "{{ cookiecutter.__service_name | jsonify }}"
VERSION = "{{ cookiecutter.version | jsonify }}"


def target(framework: str) -> Path:
    """Where the template keeps a framework's document; the project's `docs/openapi.json`
    includes the chosen one, so a bake renders only that."""
    return SHARED_TEMPLATES / f"openapi-{framework}.json"


def served(framework: str, auth: str, data: str, work: Path) -> str:
    """What a fresh bake of these answers serves (its own `api_document.served()`)."""
    answers = {"framework": framework, "auth": auth, **DATA[data]}
    out = work / f"{framework}-{auth}-{data}"
    project = Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(out), extra_context=answers)
    )
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run(["uv", "sync", "--quiet"], cwd=project, check=True, env=env, timeout=600)
    code = f"from {project.name}.core.api_document import served; print(served(), end='')"
    result = subprocess.run(
        ["uv", "run", "--no-sync", "python", "-c", code],
        cwd=project,
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout


@dataclass
class Node:
    """One value of the merged document: the same in every combination (`value`), a dict
    whose keys may be conditional (`entries`), a list of merged items, or alternatives."""

    value: Any = None
    entries: list[tuple[str, frozenset, "Node"]] | None = None
    items: list["Node"] | None = None
    alternatives: list[tuple[frozenset, "Node"]] | None = None


def merge(values: dict[tuple, Any]) -> Node:
    distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
    if len(distinct) == 1:
        return Node(value=next(iter(values.values())))
    kinds = {type(v) for v in values.values()}
    if kinds == {dict}:
        keys = sorted(set().union(*values.values()))
        entries = []
        for key in keys:
            present = {c: v[key] for c, v in values.items() if key in v}
            entries.append((key, frozenset(present), merge(present)))
        return Node(entries=entries)
    if kinds == {list} and len({len(v) for v in values.values()}) == 1:
        length = len(next(iter(values.values())))
        return Node(items=[merge({c: v[i] for c, v in values.items()}) for i in range(length)])
    groups: dict[str, set] = {}
    for combo, value in values.items():
        groups.setdefault(json.dumps(value, sort_keys=True), set()).add(combo)
    return Node(
        alternatives=[(frozenset(c), Node(value=json.loads(v))) for v, c in groups.items()]
    )


def condition(combos: frozenset) -> str:
    """A Jinja test for exactly these (auth, data) combinations."""
    auths = {a for a, _ in combos}
    datas = {d for _, d in combos}
    if set(itertools.product(auths, datas)) == set(combos):
        parts = []
        if auths != set(AUTH):
            parts.append(f"cookiecutter.auth in {json.dumps(sorted(auths))}")
        if datas == {"items", "jobs"}:
            parts.append('cookiecutter.database != "none"')
        elif datas != set(DATA):
            parts.append("(" + " or ".join(f"({DATA_CONDITIONS[d]})" for d in sorted(datas)) + ")")
        return " and ".join(parts) or "true"
    return " or ".join(
        f'(cookiecutter.auth == "{a}" and {DATA_CONDITIONS[d]})' for a, d in sorted(combos)
    )


def emit(node: Node, level: int, combos: frozenset) -> str:
    """The node as json.dumps(indent=2, sort_keys=True) spells it, in every combination."""
    pad = "  " * level
    if node.alternatives is not None:
        text = ""
        for i, (where, alternative) in enumerate(node.alternatives):
            tag = "if" if i == 0 else "elif"
            text += f"{{% {tag} {condition(where)} %}}{emit(alternative, level, where)}"
        return text + "{% endif %}"
    if node.items is not None:
        inner = ",".join(f"\n{pad}  {emit(item, level + 1, combos)}" for item in node.items)
        return f"[{inner}\n{pad}]"
    if node.entries is not None:
        text = "{"
        seen: list[frozenset] = []
        for key, where, value in node.entries:
            # A comma goes before an entry when one before it is there too, which must hold
            # alike in every combination that has this entry.
            commas = {any(c in earlier for earlier in seen) for c in where}
            if len(commas) != 1:
                raise ValueError(f"cannot place the comma before {key!r}")
            entry = f"{',' if commas.pop() else ''}\n{pad}  {json.dumps(key)}: "
            entry += emit(value, level + 1, where)
            if where != combos:
                opening = '{{ "{" }}' if text == "{" else ""
                text = text[:-1] + opening if opening else text
                entry = f"{{% if {condition(where)} %}}{entry}{{% endif %}}"
            text += entry
            seen.append(where)
        if not all(any(c in w for w in seen) for c in combos):
            raise ValueError("a dict is empty in some combination")
        return f"{text}\n{pad}}}"
    dumped = json.dumps(node.value, indent=2, sort_keys=True)
    return dumped.replace("\n", "\n" + pad)


def template(documents: dict[tuple, str]) -> str:
    parsed = {combo: json.loads(text) for combo, text in documents.items()}
    info = {json.dumps(d["info"], sort_keys=True) for d in parsed.values()}
    answers = context({})["cookiecutter"]
    expected = {"title": answers["__service_name"], "version": answers["version"]}
    if info != {json.dumps(expected, sort_keys=True)}:
        raise ValueError(f"unexpected info: {info}")
    for document in parsed.values():
        document["info"] = {"title": "\0title", "version": "\0version"}
    text = emit(merge(parsed), 0, frozenset(parsed)) + "\n"
    return text.replace('"\\u0000title"', TITLE).replace('"\\u0000version"', VERSION)


def render(text: str, auth: str, data: str) -> str:
    """The template rendered as cookiecutter renders it for these answers."""
    found = context({"auth": auth, **DATA[data]})
    environment = StrictEnvironment(context=found, keep_trailing_newline=True)
    return environment.from_string(text).render(**found)


def generate(framework: str, work: Path) -> tuple[str, dict[tuple, str]]:
    documents = {(auth, data): served(framework, auth, data, work) for auth, data in COMBOS}
    text = template(documents)
    for (auth, data), document in documents.items():
        if render(text, auth, data) != document:
            raise ValueError(f"the merged document renders wrong for auth={auth} {data}")
    return text, documents


def main() -> None:
    frameworks = sys.argv[1:] or ["fastapi", "flask"]
    with tempfile.TemporaryDirectory() as work:
        for framework in frameworks:
            text, _ = generate(framework, Path(work))
            path = target(framework)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""What the tests know about the template, read from its own files.

`cookiecutter.json` is the one source of the options and the manifest the one
source of which paths each answer keeps; nothing here repeats them by hand.
"""

import itertools
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE = ROOT / "{{cookiecutter.project_slug}}"
CONFIG = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
MANIFEST = yaml.safe_load(
    (PROJECT_TEMPLATE / ".template-manifest.yaml").read_text(encoding="utf-8")
)

# The answers the bake matrix multiplies out; the rest rotate through their values.
MATRIX_KEYS = ("framework", "database", "use_redis", "deployment")
# Refused by the pre-generation hook: they would lose data.
DATA_LOSING = {("sqlite", "kubernetes"), ("sqlite", "paas")}


def choices(key: str) -> list:
    value = CONFIG[key]
    if isinstance(value, list):
        return value
    if isinstance(value, bool):
        return [value, not value]
    raise KeyError(f"{key} is not a choice or boolean option")


def defaults() -> dict:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in public_options().items()}


def public_options() -> dict:
    return {k: v for k, v in CONFIG.items() if not k.startswith("_")}


def rotating_keys() -> list[str]:
    return [
        k
        for k, v in public_options().items()
        if k not in MATRIX_KEYS and (isinstance(v, (list, bool)))
    ]


def is_refused(answers: dict) -> bool:
    return (answers["database"], answers["deployment"]) in DATA_LOSING


def matrix() -> list[dict]:
    """Every framework x database x use_redis x deployment combination, with the
    other choice options rotating so that each of their values is baked at least once."""
    combos = [
        dict(zip(MATRIX_KEYS, values, strict=True))
        for values in itertools.product(*(choices(k) for k in MATRIX_KEYS))
    ]
    accepted = [c for c in combos if not is_refused(c)]
    for index, combo in enumerate(accepted):
        for key in rotating_keys():
            values = choices(key)
            combo[key] = values[index % len(values)]
    return accepted


def combo_id(answers: dict) -> str:
    return "-".join(
        f"{'redis' if v else 'noredis'}" if isinstance(v, bool) else str(v)
        for v in (answers[k] for k in (*MATRIX_KEYS, *rotating_keys()) if k in answers)
    )


def matches(when: dict, answers: dict) -> bool:
    for key, wanted in when.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if answers[key] not in allowed:
            return False
    return True


def manifest_expectations(answers: dict) -> tuple[set[str], set[str]]:
    """(paths that must exist, paths that must not) for these answers."""
    slug = answers.get("project_slug", "my_service")
    keep: set[str] = set()
    prune: set[str] = set()
    for feature in MANIFEST["features"].values():
        target = keep if matches(feature["when"], answers) else prune
        target.update(p.replace("{pkg}", slug) for p in feature["paths"])
    # A path listed by several features survives only if all of them are on.
    return keep - prune, prune


def selected_sources(answers: dict) -> dict[str, Path]:
    """For each manifest selection, the template file the project's path is filled from."""
    values = {k: str(v).lower() if isinstance(v, bool) else v for k, v in answers.items()}
    return {
        target: PROJECT_TEMPLATE / source.format_map(values)
        for target, source in MANIFEST.get("selections", {}).items()
    }

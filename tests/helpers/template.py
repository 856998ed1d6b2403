"""What the tests know about the template, read from its own files.

`cookiecutter.json` is the one source of the options, the manifest the one source of
which paths each answer keeps, and the hooks the one source of the rules that apply them
(loaded here unrendered, as modules); nothing here repeats them by hand.
"""

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT_TEMPLATE = ROOT / "{{cookiecutter.project_slug}}"
CONFIG = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
MANIFEST = yaml.safe_load(
    (PROJECT_TEMPLATE / ".template-manifest.yaml").read_text(encoding="utf-8")
)


def load_hook(name: str) -> ModuleType:
    """A hook as a module. The hooks keep their Jinja inside `rendered_answers()`, which only
    their `main()` calls, so importing one runs nothing that needs cookiecutter."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PRE_HOOK = load_hook("pre_gen_project")
POST_HOOK = load_hook("post_gen_project")

# The answers the bake matrix multiplies out; the rest rotate through their values.
MATRIX_KEYS = ("framework", "database", "use_redis", "deployment")


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
    """Whether the pre-generation hook's table of refusals refuses these answers (the
    options not given take their defaults)."""
    return PRE_HOOK.refusal({**defaults(), **answers}) is not None


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


def manifest_expectations(answers: dict) -> tuple[set[str], set[str]]:
    """(paths that must exist, paths that must not) for these answers."""
    return POST_HOOK.expected_paths(MANIFEST, {"project_slug": "my_service", **answers})


def selected_sources(answers: dict) -> dict[str, Path]:
    """For each manifest selection, the template file the project's path is filled from."""
    return {
        target: PROJECT_TEMPLATE / source
        for target, source in POST_HOOK.selections(MANIFEST, answers).items()
    }

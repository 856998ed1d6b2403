"""What the tests know about the template, read from its own files.

`cookiecutter.json` is the one source of the options, the manifest the one source of
which paths each answer keeps, _templates/services.jinja the one source of the images and
backing services, and the hooks the one source of the rules that apply them (loaded here
unrendered, as modules); nothing here repeats them by hand.
"""

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType

import yaml
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from jinja2 import FileSystemLoader

ROOT = Path(__file__).resolve().parents[2]
PROJECT_TEMPLATE = ROOT / "{{cookiecutter.project_slug}}"
# Jinja files the project's templates import; never copied into a project.
SHARED_TEMPLATES = PROJECT_TEMPLATE / "_templates"
CATALOG = SHARED_TEMPLATES / "services.jinja"
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


def quick_start() -> dict[str, str]:
    """The README's quick-start commands (the one-line blocks under a comment), by that
    comment: what a new user types first, and what `.ci/run` runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start\n")[1].split("\n## ")[0]
    commands = {}
    for block in section.split("```sh\n")[1:]:
        lines = block.split("```")[0].strip().splitlines()
        if len(lines) == 2 and lines[0].startswith("# "):
            commands[lines[0].removeprefix("# ").split(" (")[0]] = lines[1]
    return commands


PRE_HOOK = load_hook("pre_gen_project")
POST_HOOK = load_hook("post_gen_project")

# The answers the bake matrix multiplies out; the rest rotate through their values.
MATRIX_KEYS = ("framework", "database", "use_redis", "background_jobs", "deployment")
# How a boolean answer shows in a test id: (when true, when false).
FLAG_IDS = {
    "use_redis": ("redis", "noredis"),
    "background_jobs": ("jobs", "nojobs"),
    "opentelemetry": ("otel", "nootel"),
    "sentry": ("sentry", "nosentry"),
}


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
    """Every accepted framework x database x use_redis x background_jobs x deployment
    combination, with the
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
    keys = [k for k in (*MATRIX_KEYS, *rotating_keys()) if k in answers]
    return "-".join(
        FLAG_IDS[k][not answers[k]] if isinstance(answers[k], bool) else str(answers[k])
        for k in keys
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


def context(answers: dict) -> dict:
    """The context cookiecutter renders with for these answers (the rest at their defaults)."""
    found = generate_context(context_file=str(ROOT / "cookiecutter.json"), extra_context=answers)
    found["cookiecutter"] = prompt_for_config(found, no_input=True)
    return found


def environment(answers: dict) -> StrictEnvironment:
    """Cookiecutter's own Jinja environment, finding files as generate_files does."""
    env = StrictEnvironment(context=context(answers), keep_trailing_newline=True)
    env.loader = FileSystemLoader([str(PROJECT_TEMPLATE), str(SHARED_TEMPLATES)])
    return env


def render(source: Path, answers: dict) -> str:
    """A project template file as cookiecutter renders it for these answers."""
    template = environment(answers).get_template(source.relative_to(PROJECT_TEMPLATE).as_posix())
    return template.render(**context(answers))


def catalog(answers: dict):
    """_templates/services.jinja as a project's files see it for these answers (the other
    answers at their defaults): a module with `images`, `catalog` and `chosen`."""
    template = environment(answers).get_template(CATALOG.name)
    return template.make_module(context(answers))


def expected_images(answers: dict) -> dict[str, dict[str, str]]:
    """What `rendered_images` must find in a project baked with these answers, for the
    files it has: each image as the catalog names it."""
    module = catalog(answers)
    images = module.images
    backing = {s["compose_name"]: s["image"] for s in module.chosen}
    in_ci = {s["ci_name"]: s["image"] for s in module.chosen}
    # The backup service runs a server database's own image (its dump program's version).
    databases = [s["image"] for s in module.chosen if "backup" in s]
    dumps = {"backup": databases[0]} if databases else {}
    return {
        "compose.yaml": {**backing, **dumps, "nginx": images["nginx"]},
        ".github/workflows/ci.yml": in_ci,
        ".gitlab/ci/test-services.yml": in_ci,
        ".gitlab-ci.yml": {".uv": images["uv_ci"]},
        ".gitlab/ci/build.yml": {"build": images["docker"], "build/dind": images["docker_dind"]},
        "Dockerfile": {
            "syntax": images["dockerfile"],
            "uv": images["uv"],
            "build": images["python"],
            "runtime": images["python"],
        },
    }

"""Shape the project to the answers given, then render it.

Cookiecutter copies the project template as it is (`_copy_without_render: ["*"]`): what
the answers prune is never rendered, and rendering was most of a bake's time.

1. Render the names of the paths that hold Jinja (the package folder's, for one).
2. Merge the variant folder of each chosen answer (e.g. the framework) over the
   project root, move each selected file into place, and drop the other sources.
3. Delete every path whose feature is off, as `.template-manifest.yaml` says.
4. Render every file left with cookiecutter's own environment, as cookiecutter does,
   then drop the shared Jinja files they import.
5. Record the answers in `.template-answers.yaml` (for template updates), write
   `.env` with a fresh SECRET_KEY and print the next commands.

Needs nothing beyond the standard library, cookiecutter and its dependencies (the
interpreter that runs cookiecutter runs this hook), and no network.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

import yaml
from cookiecutter.utils import create_env_with_context
from jinja2 import FileSystemLoader

MANIFEST = Path(".template-manifest.yaml")
# libyaml's loader and dumper where PyYAML was built with them: the pure-Python loader took
# 11 of the hook's 80 ms on the manifest.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def matches(when, answers):
    """True when every key of `when` matches the answers (a list: any of)."""
    for key, wanted in when.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if answers[key] not in allowed:
            return False
    return True


def expand(path, answers):
    slug = answers["project_slug"]
    return path.replace("{pkg}", slug).replace("{service}", slug.replace("_", "-"))


def fill(source, answers):
    """A selection's source path with each "{answer}" replaced by its value."""
    values = {k: str(v).lower() if isinstance(v, bool) else v for k, v in answers.items()}
    return source.format_map(values)


def merge_tree(src, dst):
    for item in sorted(src.rglob("*")):
        target = dst / item.relative_to(src)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(item), str(target))


def remove(path, root):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    else:
        return
    # A folder emptied by pruning goes too: the project has no empty folders.
    parent = path.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def selections(manifest, answers):
    """For each selected path, the source file (relative to the root) its answers pick."""
    return {
        target: fill(source, answers) for target, source in manifest.get("selections", {}).items()
    }


def source_roots(manifest):
    """The top folders that hold variants and selection sources: none survives the hook."""
    folders = [f for choices in manifest.get("variants", {}).values() for f in choices.values()]
    folders += manifest.get("selections", {}).values()
    return {Path(folder).parts[0] for folder in folders}


def expected_paths(manifest, answers):
    """(paths kept, paths pruned) by the features for these answers. A path listed by
    several features is kept only if all of them are on."""
    keep, prune = set(), set()
    for feature in manifest.get("features", {}).values():
        paths = {expand(path, answers) for path in feature["paths"]}
        (keep if matches(feature["when"], answers) else prune).update(paths)
    return keep - prune, prune


def environment(answers, root, shared):
    """Cookiecutter's own environment for these answers, finding files as its generate_files
    does: the project's own first, then the shared Jinja files they import by name."""
    env = create_env_with_context({"cookiecutter": answers})
    env.loader = FileSystemLoader([str(root), str(root / shared)])
    return env


def render_names(root, env, answers):
    """Give every file and folder whose name holds Jinja its rendered name, as cookiecutter
    names it; a folder is renamed whole, before the walk goes into it."""
    for folder, dirs, files in os.walk(root):
        for names in (dirs, files):
            for index, name in enumerate(names):
                if "{" in name:
                    rendered = env.from_string(name).render(cookiecutter=answers)
                    os.rename(os.path.join(folder, name), os.path.join(folder, rendered))
                    names[index] = rendered


def render_files(root, env, answers, skip):
    """Render each file under `root` in place, as cookiecutter's generate_file does: written
    with the newline its first line has (or `_new_lines`), keeping its mode. Paths in `skip`
    (and under them) stay as they are, and so do files that are not UTF-8 text: cookiecutter
    copies binary files unrendered."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if any(name == s or name.startswith(f"{s}/") for s in skip):
            continue
        try:
            with open(path, encoding="utf-8") as source:
                source.readline()
                newlines = source.newlines
        except UnicodeDecodeError:
            continue
        newline = answers.get("_new_lines") or (
            newlines[0] if isinstance(newlines, tuple) else newlines
        )
        try:
            text = env.get_template(name).render(cookiecutter=answers)
        except Exception as exc:
            raise RuntimeError(f"cannot render {name}: {exc}") from exc
        with open(path, "w", encoding="utf-8", newline=newline) as target:
            target.write(text)


def apply_manifest(manifest, answers, root):
    for key, choices in manifest.get("variants", {}).items():
        if answers[key] in choices:
            merge_tree(root / choices[answers[key]], root)
    for target, source in selections(manifest, answers).items():
        chosen = root / source
        if not chosen.is_file():
            raise FileNotFoundError(f"selection {target}: no source {source}")
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(chosen), str(root / target))
    for name in sorted(source_roots(manifest)):
        shutil.rmtree(root / name, ignore_errors=True)

    _, prune = expected_paths(manifest, answers)
    for path in sorted(prune):
        remove(root / path, root)


def write_answers(answers, root):
    """Keep the public answers in cookiecutter's user-config format, so that
    `cookiecutter --config-file .template-answers.yaml` or `cruft link` reproduces them."""
    public = {k: v for k, v in answers.items() if not k.startswith("_")}
    header = (
        f"# The answers this project was generated with, from cookiecutter-backend "
        f"{answers['_template_version']}.\n"
        "# README.md, 'Template updates', shows how to use them.\n"
    )
    body = yaml.dump(
        {"default_context": public}, Dumper=SAFE_DUMPER, sort_keys=False, allow_unicode=True
    )
    (root / ".template-answers.yaml").write_text(header + body, encoding="utf-8")


# compose.yaml falls back to a password everyone knows (`${POSTGRES_PASSWORD:-...}`), which the
# app refuses in production, as compose runs it: .env gets a random one for each such variable.
COMPOSE_PASSWORD = re.compile(r"\$\{([A-Z][A-Z0-9_]*_PASSWORD):-")


# The development key's entry in API_KEYS, in the format core/auth/keys.py reads
# (name:scopes:sha256-hex); `python -m <package>.core.auth.keys new` makes more.
DEV_KEY_NAME = "dev"
DEV_KEY_SCOPES = "items:read items:write"


def dev_api_key():
    """(key, its API_KEYS entry): a fresh key as the project's own command makes them."""
    key = secrets.token_urlsafe(32)
    digest = hashlib.sha256(key.encode()).hexdigest()
    return key, f"{DEV_KEY_NAME}:{DEV_KEY_SCOPES}:{digest}"


def write_env(root, api_key_entry=None):
    key = secrets.token_urlsafe(48)
    text = (
        "# Local settings for development; never commit this file.\n"
        "# Every setting is documented in .env.example.\n"
        "ENVIRONMENT=development\n"
        f"SECRET_KEY={key}\n"
    )
    if api_key_entry is not None:
        # Only the digest: the key itself was printed once, when the project was made.
        text += f"API_KEYS={api_key_entry}\n"
    compose = root / "compose.yaml"
    if compose.is_file():
        for name in sorted(set(COMPOSE_PASSWORD.findall(compose.read_text(encoding="utf-8")))):
            text += f"{name}={secrets.token_hex(16)}\n"
    # Created readable by its owner only (0600), whatever the umask: it holds the secret key,
    # and later the passwords people add; chmod narrows a file that was already there.
    path = root / ".env"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as env:
        env.write(text)


NEXT_STEPS = {
    "vm": ["make run", "# deploy: docs/deployment.md (nginx site + systemd unit)"],
    "docker-compose": ["docker compose up --build"],
    "kubernetes": [
        "docker build -t {service}:{version} .",
        "cp deploy/kubernetes/secrets.env.example deploy/kubernetes/overlays/staging/secrets.env",
        "# fill in secrets.env, then:",
        "kubectl apply -k deploy/kubernetes/overlays/staging",
    ],
    "paas": ["git init && git add -A && git commit -m 'Initial commit'", "# push to your PaaS"],
}


def print_next_steps(answers, api_key=None):
    service = answers["project_slug"].replace("_", "-")
    steps = [f"cd {answers['project_slug']}", "uv sync", "uv run pytest"]
    steps += [
        s.format(service=service, version=answers["version"])
        for s in NEXT_STEPS[answers["deployment"]]
    ]
    print(f"\nCreated {answers['project_name']}. Next:\n")
    for step in steps:
        print(f"    {step}")
    print()
    if api_key is not None:
        print("Your development API key (.env holds only its digest; keep the key):\n")
        print(f"    {api_key}\n")
        print("Send it in the X-API-Key header", end="")
        if answers["database"] == "none":
            print(" to the routes you add under /api/v1.\n")
        else:
            print(", e.g. (after `make dev`):\n")
            print(f"    curl -H 'X-API-Key: {api_key}' http://127.0.0.1:8000/api/v1/items\n")


def rendered_answers():
    """The answers, rendered into this file by cookiecutter. Only main() calls this, so the
    module imports unrendered and the template's tests can call its functions directly."""
    return json.loads({{cookiecutter | jsonify | tojson}})  # noqa: F821 - rendered by cookiecutter


def main():
    answers = rendered_answers()
    root = Path.cwd()
    manifest = yaml.load(MANIFEST.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    shared = manifest["shared"]
    env = environment(answers, root, shared)
    render_names(root, env, answers)
    apply_manifest(manifest, answers, root)
    MANIFEST.unlink()
    render_files(root, env, answers, skip={shared, *manifest.get("verbatim", [])})
    shutil.rmtree(root / shared)
    write_answers(answers, root)
    api_key, entry = dev_api_key() if answers["auth"] == "api-key" else (None, None)
    write_env(root, entry)
    print_next_steps(answers, api_key)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # one readable line instead of a traceback
        print(f"ERROR: post-generation failed: {exc}", file=sys.stderr)
        sys.exit(1)

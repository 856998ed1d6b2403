"""Refuse answers that would produce a broken or data-losing project.

Cookiecutter deletes the half-made project directory when this hook exits
non-zero, so every refusal leaves nothing behind. A refusal also prints one command that
generates again with every answer given, so only the refused one needs changing.
"""

import json
import keyword
import os
import re
import shlex
import sys
from pathlib import Path

# Modules the generated project imports (or its tooling runs as packages):
# a package with one of these names would shadow the real one.
PROJECT_IMPORTS = {
    "aiomysql",
    "aiosqlite",
    "alembic",
    "anyio",
    "app",
    "asgi_correlation_id",
    "asyncmy",
    "asyncpg",
    "fastapi",
    "flask",
    "flask_cors",
    "dramatiq",
    "flask_limiter",
    "gunicorn",
    "httpx",
    "httpx2",
    "limits",
    "migrations",
    "mypy",
    "orjson",
    "prometheus_client",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "pymysql",
    "pytest",
    "redis",
    "ruff",
    "slowapi",
    "sqlalchemy",
    "starlette",
    "structlog",
    "test",  # the standard library's test package, absent from stdlib_module_names
    "tests",
    "uvicorn",
    "uvicorn_worker",
    "werkzeug",
}

# Every generated line that holds the package name fits ruff's 99 columns up to this length.
MAX_SLUG_LENGTH = 60
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
VERSION_RE = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")

# Combinations that cannot work together, as data: each row refuses the answers whose keys
# all have exactly the values in `when`, blaming `field` (the answer to change). A later
# refusal is one more row; the message names every answer in `when`.
REFUSALS = [
    {
        "when": {"database": "sqlite", "deployment": "kubernetes"},
        "field": "database",
        "reason": "Kubernetes runs several replicas, each with its own disk: data would be lost. "
        "Choose database=postgresql (or mysql).",
    },
    {
        "when": {"database": "sqlite", "deployment": "paas"},
        "field": "database",
        "reason": "a PaaS gives each release a fresh, ephemeral disk: data would be lost. "
        "Choose database=postgresql (or mysql).",
    },
    {
        "when": {"background_jobs": True, "use_redis": False},
        "field": "background_jobs",
        "reason": "the jobs queue lives in Redis (Dramatiq's Redis broker). "
        "Choose use_redis=true, or background_jobs=false.",
    },
]


def shown(value):
    """An answer as the user types it (booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def refusal(answers, refusals=REFUSALS):
    """The message of the first row of `refusals` the answers hit, or None."""
    for row in refusals:
        when = row["when"]
        if all(answers[key] == value for key, value in when.items()):
            field = row["field"]
            others = ", ".join(f"{k}={shown(v)}" for k, v in when.items() if k != field)
            return (
                f"{field}: {field}={shown(when[field])} cannot be used with {others}; "
                f"{row['reason']}"
            )
    return None


def check(answers):
    """Return the first problem with the answers, or None."""
    name = answers["project_name"]
    if not name.strip():
        return "project_name: must not be empty."
    if "\n" in name or "\r" in name:
        return "project_name: must be a single line."

    slug = answers["project_slug"]
    if len(slug) > MAX_SLUG_LENGTH:
        return (
            f"project_slug: {slug!r} has {len(slug)} characters; use at most "
            f"{MAX_SLUG_LENGTH} (set project_slug to a shorter name)."
        )
    if not SLUG_RE.match(slug):
        return (
            f"project_slug: {slug!r} is not a valid package name; use lowercase "
            "letters, digits and underscores, starting with a letter (e.g. my_service)."
        )
    if keyword.iskeyword(slug) or keyword.issoftkeyword(slug):
        return f"project_slug: {slug!r} is a Python keyword; choose another name."
    if slug in sys.stdlib_module_names or slug in PROJECT_IMPORTS:
        return (
            f"project_slug: {slug!r} would shadow the module of the same name that the "
            "project imports or the standard library provides; choose another name."
        )

    for field in ("description", "author_name"):
        if "\n" in answers[field] or "\r" in answers[field]:
            return f"{field}: must be a single line."
    if not answers["author_name"].strip():
        return "author_name: must not be empty."

    email = answers["author_email"]
    if not EMAIL_RE.match(email):
        return f"author_email: {email!r} is not a valid email address (e.g. you@example.com)."

    domain = answers["domain_name"]
    if not DOMAIN_RE.match(domain):
        return (
            f"domain_name: {domain!r} is not a valid lowercase domain name (e.g. api.example.com)."
        )

    version = answers["version"]
    if not VERSION_RE.match(version):
        return f"version: {version!r} is not a PEP 440 version (e.g. 0.1.0)."

    for flag in ("use_redis", "background_jobs", "opentelemetry", "sentry"):
        if not isinstance(answers[flag], bool):
            return f"{flag}: must be true or false."

    return refusal(answers)


def rendered_answers():
    """The answers, rendered into this file by cookiecutter. Only main() calls this, so the
    module imports unrendered and the template's tests can call check() directly."""
    return json.loads({{cookiecutter | jsonify | tojson}})  # noqa: F821 - rendered by cookiecutter


def rerun_command(answers, field):
    """A `cookiecutter --no-input` command with the answers given, `field` last so it is the
    one to edit. Cookiecutter puts the template as it was named (`_template`), the checkout
    and the output folder into the context. project_slug is left out when the name is the
    problem: it derives from the name again."""
    words = ["cookiecutter", "--no-input"]
    if answers.get("_checkout"):
        words += ["--checkout", answers["_checkout"]]
    output_dir = answers.get("_output_dir")
    # The hook runs inside the project folder; PWD is still the folder the user typed in.
    if output_dir and output_dir != os.environ.get("PWD"):
        words += ["--output-dir", output_dir]
    words.append(answers.get("_template") or ".")
    skip = {field, "project_slug"} if field == "project_name" else {field}
    keys = [k for k in answers if not k.startswith("_") and k not in skip]
    if field in answers:
        keys.append(field)
    words += [f"{key}={shown(answers[key])}" for key in keys]
    return shlex.join(words)


def occupied(folder):
    """An error when the project folder holds files already: `cookiecutter -f` over a project.
    Cookiecutter copies the template unrendered (the post-generation hook renders it), and it
    copies each folder by deleting the one in its place first: the project's own work in it
    would be lost."""
    if not any(folder.iterdir()):
        return None
    return (
        f"{folder.name} exists and is not empty: generating over it would replace its folders "
        "whole, your changes with them. Generate into another folder (--output-dir) and "
        "compare, or update the project with cruft."
    )


def main():
    taken = occupied(Path.cwd())
    if taken:
        # Nothing to rerun: the folder, not an answer, is the problem. Cookiecutter removes
        # only a folder it made, so this one is left as it was.
        print(f"ERROR: {taken}", file=sys.stderr)
        sys.exit(1)
    answers = rendered_answers()
    problem = check(answers)
    if problem:
        field = problem.split(":", 1)[0]
        print(f"ERROR: {problem}", file=sys.stderr)
        print(f"Change {field} in this command and run it again:", file=sys.stderr)
        print(rerun_command(answers, field), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

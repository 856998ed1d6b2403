"""The post-generation hook's steps, called directly on a small tree of their own (not the
template's manifest, whose entries change with the template): variants merged, selections
moved, features pruned with the folders they empty, answers recorded."""

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cookiecutter.config import get_config

from tests.helpers.template import POST_HOOK

MANIFEST = {
    "variants": {"framework": {"fastapi": "_variants/fastapi", "flask": "_variants/flask"}},
    "selections": {"conf/ci.yml": "_sources/ci-{database}-redis-{use_redis}.yml"},
    "features": {
        "database": {
            "when": {"database": ["sqlite", "postgresql"]},
            "paths": ["src/{pkg}/db.py", "migrations"],
        },
        "redis": {
            "when": {"use_redis": True},
            "paths": ["src/{pkg}/cache.py", "deploy/jobs.yaml"],
        },
        "kubernetes": {
            "when": {"deployment": "kubernetes"},
            "paths": ["deploy/jobs.yaml", "deploy/kubernetes"],
        },
        "ci": {"when": {"ci": "github"}, "paths": ["conf"]},
    },
}
DATABASES = ("sqlite", "postgresql", "none")
FILES = {
    "_variants/fastapi/src/svc/app.py": "fastapi app",
    "_variants/fastapi/src/svc/asgi.py": "",
    "_variants/flask/src/svc/app.py": "flask app",
    "_variants/flask/src/svc/wsgi.py": "",
    "src/svc/config.py": "",
    "src/svc/db.py": "",
    "src/svc/cache.py": "",
    "migrations/env.py": "",
    "migrations/versions/0001_items.py": "",
    "deploy/jobs.yaml": "",
    "deploy/kubernetes/app.yaml": "",
    **{
        f"_sources/ci-{db}-redis-{redis}.yml": f"ci for {db}, redis {redis}"
        for db in DATABASES
        for redis in ("true", "false")
    },
}
ALL_ON = {
    "project_slug": "svc",
    "framework": "flask",
    "database": "postgresql",
    "use_redis": True,
    "deployment": "kubernetes",
    "ci": "github",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_everything_on_keeps_every_feature_and_only_the_chosen_variant(root):
    POST_HOOK.apply_manifest(MANIFEST, ALL_ON, root)

    assert tree(root) == {
        "src",
        "src/svc",
        "src/svc/app.py",
        "src/svc/wsgi.py",
        "src/svc/config.py",
        "src/svc/db.py",
        "src/svc/cache.py",
        "migrations",
        "migrations/env.py",
        "migrations/versions",
        "migrations/versions/0001_items.py",
        "deploy",
        "deploy/jobs.yaml",
        "deploy/kubernetes",
        "deploy/kubernetes/app.yaml",
        "conf",
        "conf/ci.yml",
    }
    assert (root / "src/svc/app.py").read_text(encoding="utf-8") == "flask app"
    assert (root / "conf/ci.yml").read_text(encoding="utf-8") == "ci for postgresql, redis true"


def test_features_off_are_pruned_with_the_folders_they_empty(root):
    answers = {**ALL_ON, "framework": "fastapi", "database": "none", "use_redis": False}
    answers |= {"deployment": "vm", "ci": "none"}

    POST_HOOK.apply_manifest(MANIFEST, answers, root)

    # deploy/ held only pruned paths, so it goes; conf/ goes although a selection filled it.
    assert tree(root) == {
        "src",
        "src/svc",
        "src/svc/app.py",
        "src/svc/asgi.py",
        "src/svc/config.py",
    }
    assert (root / "src/svc/app.py").read_text(encoding="utf-8") == "fastapi app"


@pytest.mark.parametrize("use_redis", [True, False])
@pytest.mark.parametrize("deployment", ["kubernetes", "vm"])
def test_a_path_in_two_features_is_kept_only_when_both_are_on(root, use_redis, deployment):
    answers = {**ALL_ON, "use_redis": use_redis, "deployment": deployment}
    both_on = use_redis and deployment == "kubernetes"

    keep, prune = POST_HOOK.expected_paths(MANIFEST, answers)
    POST_HOOK.apply_manifest(MANIFEST, answers, root)

    assert ("deploy/jobs.yaml" in keep) is both_on
    assert ("deploy/jobs.yaml" in prune) is not both_on
    assert (root / "deploy/jobs.yaml").exists() is both_on


def test_expected_paths_name_the_package():
    keep, prune = POST_HOOK.expected_paths(MANIFEST, {**ALL_ON, "database": "none"})
    assert "src/svc/cache.py" in keep
    assert {"src/svc/db.py", "migrations"} <= prune
    assert not any("{pkg}" in path for path in keep | prune)


def test_paths_name_the_service_in_its_dash_form():
    answers = {"project_slug": "order_api"}
    assert POST_HOOK.expand("unit/{service}-worker.service", answers) == (
        "unit/order-api-worker.service"
    )
    assert POST_HOOK.expand("src/{pkg}/jobs", answers) == "src/order_api/jobs"


def test_selection_sources_are_filled_with_the_answers_booleans_as_typed():
    answers = {**ALL_ON, "database": "sqlite", "use_redis": False}
    assert POST_HOOK.selections(MANIFEST, answers) == {
        "conf/ci.yml": "_sources/ci-sqlite-redis-false.yml"
    }
    assert POST_HOOK.source_roots(MANIFEST) == {"_variants", "_sources"}


def test_a_missing_selection_source_names_the_selection(root):
    (root / "_sources/ci-postgresql-redis-true.yml").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"selection conf/ci\.yml: no source _sources/ci-postgresql-redis-true\.yml",
    ):
        POST_HOOK.apply_manifest(MANIFEST, ALL_ON, root)


def test_answers_are_written_as_a_cookiecutter_config_file(tmp_path):
    answers = {
        "project_name": 'Zoë\'s "Café"',
        "project_slug": "zoe_s_cafe",
        "use_redis": True,
        "database": "none",
        "_template_version": "1.2.3",
        "_copy_without_render": ["*.yml"],
    }

    POST_HOOK.write_answers(answers, tmp_path)

    written = tmp_path / ".template-answers.yaml"
    assert "cookiecutter-backend 1.2.3" in written.read_text(encoding="utf-8").splitlines()[0]
    public = {k: v for k, v in answers.items() if not k.startswith("_")}
    assert get_config(str(written))["default_context"] == public


@pytest.mark.parametrize("existing", [False, True])
def test_env_is_readable_by_its_owner_only(tmp_path, existing):
    env = tmp_path / ".env"
    if existing:
        env.write_text("OLD=1\n", encoding="utf-8")
        env.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        POST_HOOK.write_env(tmp_path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text(encoding="utf-8")
    assert "SECRET_KEY=" in text and "OLD=1" not in text


def test_env_holds_a_random_password_for_each_compose_fallback(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "x: postgresql://app:${POSTGRES_PASSWORD:-compose-only}@db/app\n"
        "y: ${POSTGRES_PASSWORD:-compose-only}\nz: ${HTTP_PORT:-8080}\n",
        encoding="utf-8",
    )
    POST_HOOK.write_env(tmp_path)
    first = (tmp_path / ".env").read_text(encoding="utf-8")
    passwords = [line for line in first.splitlines() if "PASSWORD" in line]
    assert len(passwords) == 1 and passwords[0].startswith("POSTGRES_PASSWORD=")
    assert len(passwords[0].split("=", 1)[1]) == 32 and "HTTP_PORT" not in first
    POST_HOOK.write_env(tmp_path)
    assert (tmp_path / ".env").read_text(encoding="utf-8") != first  # fresh every render


def test_the_development_api_key_is_stored_as_its_digest_only(tmp_path):
    key, entry = POST_HOOK.dev_api_key()
    # The entry format of the generated core/auth/keys.py: name:scopes:sha256-hex.
    assert entry == f"dev:items:read items:write:{hashlib.sha256(key.encode()).hexdigest()}"
    assert len(key) >= 43 and POST_HOOK.dev_api_key()[0] != key
    POST_HOOK.write_env(tmp_path, entry)
    text = (tmp_path / ".env").read_text(encoding="utf-8")
    assert f"API_KEYS={entry}\n" in text and key not in text
    POST_HOOK.write_env(tmp_path)
    assert "API_KEYS" not in (tmp_path / ".env").read_text(encoding="utf-8")


def test_paths_get_their_rendered_names_and_the_unrendered_folders_go(tmp_path):
    answers = {"project_slug": "svc", "__service_name": "svc-web"}
    files = {
        "src/{{cookiecutter.project_slug}}/app.py": "app",
        "_variants/flask/src/{{cookiecutter.project_slug}}/wsgi.py": "wsgi",
        "deploy/{{cookiecutter.__service_name}}.service": "unit",
        "README.md": "readme",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = POST_HOOK.environment(answers, tmp_path, "_templates")

    POST_HOOK.render_names(tmp_path, env, answers)

    assert {p for p in tree(tmp_path) if (tmp_path / p).is_file()} == {
        "src/svc/app.py",
        "_variants/flask/src/svc/wsgi.py",
        "deploy/svc-web.service",
        "README.md",
    }
    assert not any("{" in p for p in tree(tmp_path))
    assert (tmp_path / "src/svc/app.py").read_text(encoding="utf-8") == "app"


def test_files_are_rendered_in_place_as_cookiecutter_renders_them(tmp_path):
    answers = {"project_slug": "svc", "framework": "flask"}
    (tmp_path / "_templates").mkdir()
    (tmp_path / "_templates/names.jinja").write_text(
        "{% macro title() %}{{ cookiecutter.project_slug | upper }}{% endmacro %}",
        encoding="utf-8",
    )
    (tmp_path / "unix.py").write_text(
        '{%- import "names.jinja" as names with context -%}\nNAME = "{{ names.title() }}"\n',
        encoding="utf-8",
    )
    (tmp_path / "dos.txt").write_bytes(b"{{ cookiecutter.framework }}\r\nend\r\n")
    (tmp_path / "run.sh").write_text("echo {{ cookiecutter.project_slug }}\n", encoding="utf-8")
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / "kept.yaml").write_text("x: {{ literal }}\n", encoding="utf-8")
    (tmp_path / "logo.bin").write_bytes(b"\x89PNG{{ x }}\xff")
    env = POST_HOOK.environment(answers, tmp_path, "_templates")

    POST_HOOK.render_files(tmp_path, env, answers, skip={"_templates", "kept.yaml"})

    assert (tmp_path / "unix.py").read_text(encoding="utf-8") == 'NAME = "SVC"\n'
    assert (tmp_path / "dos.txt").read_bytes() == b"flask\r\nend\r\n"
    assert (tmp_path / "run.sh").read_text(encoding="utf-8") == "echo svc\n"
    assert stat.S_IMODE((tmp_path / "run.sh").stat().st_mode) == 0o755
    assert (tmp_path / "kept.yaml").read_text(encoding="utf-8") == "x: {{ literal }}\n"
    assert (tmp_path / "logo.bin").read_bytes() == b"\x89PNG{{ x }}\xff"
    assert "{{" in (tmp_path / "_templates/names.jinja").read_text(encoding="utf-8")


def test_a_file_that_fails_to_render_is_named(tmp_path):
    (tmp_path / "broken.py").write_text("{{ cookiecutter.nowhere }}\n", encoding="utf-8")
    env = POST_HOOK.environment({}, tmp_path, "_templates")
    with pytest.raises(RuntimeError, match=r"cannot render broken\.py: .*nowhere"):
        POST_HOOK.render_files(tmp_path, env, {}, skip=set())

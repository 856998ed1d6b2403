"""Generated projects with a database, proven against real servers.

For every framework x database x Redis answer (and background jobs on each database), bake
the project, install it, run its own
suite against a real PostgreSQL / MariaDB server (SQLite: a file), each project in its own
database, then migrate a fresh database with `alembic upgrade head` and compare models and
migrations with `alembic check`.
"""

import itertools
import os
import subprocess

import pytest

from tests.helpers.template import choices

COMBOS = [
    (framework, database, use_redis, False)
    for framework, database, use_redis in itertools.product(
        choices("framework"), choices("database"), choices("use_redis")
    )
    if database != "none"
] + [
    # Background jobs (Redis on): its migration and its suite, once per database.
    (framework, database, True, True)
    for framework, database in (
        ("fastapi", "sqlite"),
        ("flask", "postgresql"),
        ("fastapi", "mysql"),
    )
]


def run(cmd, cwd, env, timeout=600):
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def database_url(servers, database, name, tmp_path):
    if database == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    return servers(database).create_database(name)


def combo_name(framework, database, use_redis, jobs):
    return f"{framework}-{database}-{'redis' if use_redis else 'noredis'}" + (
        "-jobs" if jobs else ""
    )


@pytest.mark.parametrize(
    ("framework", "database", "use_redis", "jobs"),
    COMBOS,
    ids=[combo_name(*combo) for combo in COMBOS],
)
def test_generated_suite_and_migrations_on_a_real_database(
    bake, uv, servers, tmp_path, framework, database, use_redis, jobs
):
    name = "dl_" + combo_name(framework, database, use_redis, jobs).replace("-", "_")
    project = bake(
        framework=framework, database=database, use_redis=use_redis, background_jobs=jobs
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = database_url(servers, database, name, tmp_path)
    if use_redis:
        # One Redis database per combination: parallel projects share the server, not keys.
        combo = (framework, database, use_redis, jobs)
        env["REDIS_URL"] = servers("redis").url(COMBOS.index(combo))
    run([uv, "sync", "--quiet"], project, env)

    suite = run([uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert " passed" in suite.stdout
    assert " failed" not in suite.stdout and " error" not in suite.stdout

    # A database nothing has touched: the migrations alone build the schema.
    env["DATABASE_URL"] = database_url(servers, database, f"{name}_migrated", tmp_path)
    upgrade = run([uv, "run", "--no-sync", "alembic", "upgrade", "head"], project, env)
    assert "Running upgrade  -> 0001" in upgrade.stderr
    assert ("Running upgrade 0001 -> 0002" in upgrade.stderr) == jobs
    check = run([uv, "run", "--no-sync", "alembic", "check"], project, env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr

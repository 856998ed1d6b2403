"""The restore drill, on real SQLite, PostgreSQL and MariaDB: items written through the API of
a service running under gunicorn, a backup taken with the generated backup unit's command
while it serves, the database destroyed, the restore run as the generated deployment guide
writes it, and every item read back byte for byte, with `alembic current` still at head."""

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import find_tool
from tests.helpers.credentials import API_KEYS
from tests.helpers.deployment_tools import SERVICE
from tests.helpers.running_service import SECRET, install, start
from tests.helpers.servers import PASSWORD

# One framework each, both covered.
CASES = [("sqlite", "fastapi"), ("postgresql", "flask"), ("mysql", "fastapi")]
NAMES = ["plain", "ünïcode ✓", "quotes ' and \"", "back\\slash", "x" * 200, "   padded"]


def generated_commands(project: Path, backup_dir: Path) -> tuple[list[str], list[str], dict]:
    """The backup unit's ExecStart and Environment, and the guide's restore command, pointed
    at this project's venv and `backup_dir` instead of /srv and /var/lib."""
    unit = (project / "deploy" / "systemd" / "backup" / f"{SERVICE}-backup.service").read_text()
    installed_python = f"/srv/{SERVICE}/venv/bin/python"
    python = str(project / ".venv" / "bin" / "python")
    backup = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1))
    assert backup[0] == installed_python, backup
    key, value = re.search(r"^Environment=(BACKUP_DIR)=(.+)$", unit, re.M).groups()
    guide = (project / "docs" / "deployment.md").read_text()
    lines = [ln for ln in guide.splitlines() if f"{installed_python} -m" in ln and "restore" in ln]
    assert len(lines) == 1, lines
    restore = shlex.split(lines[0])
    assert restore[0] == installed_python and restore[-1] == f"{value}/<file>", restore
    return [python, *backup[1:]], [python, *restore[1:-1]], {key: str(backup_dir)}


def items_as_served(service, ids: list[int]) -> dict[str, bytes]:
    bodies = {}
    for item_id in ids:
        response = service.get(f"/api/v1/items/{item_id}")
        assert response.status_code == 200, response.text
        bodies[f"item {item_id}"] = response.content
    listing = service.get("/api/v1/items", params={"limit": 100})
    assert listing.status_code == 200, listing.text
    bodies["list"] = listing.content
    return bodies


def destroy(database: str, url: str, server, name: str) -> None:
    """Lose the database: the SQLite file deleted, a server's database dropped (and made again,
    empty, as the guide says to before a restore)."""
    if database == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        server.create_database(name)


@pytest.mark.parametrize(("database", "framework"), CASES, ids=[f"{f}-{d}" for d, f in CASES])
def test_restore_drill(request, bake, uv, tmp_path, drill_record, database, framework):
    project = bake(framework=framework, database=database, deployment="vm")
    install(project, uv)
    name = f"drill_{database}"
    server = None
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        server = request.getfixturevalue("postgresql" if database == "postgresql" else "mariadb")
        url = server.create_database(name)
    backup_dir = tmp_path / "backups"
    backup, restore, backup_env = generated_commands(project, backup_dir)
    env = {"DATABASE_URL": url, "RATE_LIMIT": ""}
    full_env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET,
        "API_KEYS": API_KEYS,
        **env,
    }

    def run(command: list[str], extra: dict | None = None) -> str:
        result = subprocess.run(
            command, cwd=project, env={**full_env, **(extra or {})}, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        return result.stdout

    alembic = str(project / ".venv" / "bin" / "alembic")
    run([alembic, "upgrade", "head"])
    head = run([alembic, "heads"]).split()[0]

    service = start(project, env=env, workers=2, log_dir=tmp_path)
    try:
        ids = []
        for index, item_name in enumerate(NAMES * 4):
            body = {"name": item_name, "description": None if index % 3 else f"n° {index}"}
            created = service.request("POST", "/api/v1/items", json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        before = items_as_served(service, ids)
        # Online: the service is still serving while the backup runs.
        made = Path(run(backup, backup_env).strip())
    finally:
        service.stop()
    assert made.parent == backup_dir and made.stat().st_size > 0, made
    assert [p.name for p in backup_dir.iterdir()] == [made.name]

    destroy(database, url, server, name)
    assert head not in run([alembic, "current"])  # nothing left to be at any revision
    run([*restore, str(made)])
    assert f"{head} (head)" in run([alembic, "current"])

    service = start(project, env=env, workers=2, log_dir=tmp_path)
    try:
        after = items_as_served(service, ids)
    finally:
        service.stop()
    differing = [key for key in before if after.get(key) != before[key]]
    drill_record("backup and restore", sent=2 * len(before) + len(ids), faults=1,
                 errors=len(differing))  # fmt: skip
    assert len(before) == len(NAMES) * 4 + 1
    assert differing == [], differing
    assert after == before


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_kubernetes_backup_cronjob_script(request, bake, tmp_path, database):
    """The CronJob's script as kubectl kustomize builds it, run by sh against a real server:
    three runs with BACKUP_KEEP=2 leave the newest two, and the newest restores into an empty
    database with every row."""
    project = bake(deployment="kubernetes", database=database)
    kubernetes = project / "deploy" / "kubernetes"
    shutil.copy(kubernetes / "secrets.env.example", kubernetes / "overlays/staging/secrets.env")
    built = subprocess.run(
        [find_tool("kubectl"), "kustomize", str(kubernetes / "overlays" / "staging")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    cronjob = next(o for o in yaml.safe_load_all(built) if o["kind"] == "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    backups = tmp_path / "backups"
    backups.mkdir()
    # kubelet turns $$ into $; the claim's mount becomes a folder here.
    script = (
        container["args"][0].replace("$$", "$").replace(f"{mounts['backups']}/", f"{backups}/")
    )
    env = {v["name"]: v["value"] for v in container["env"]}

    server = request.getfixturevalue("postgresql" if database == "postgresql" else "mariadb")
    url = server.create_database("cronjob_source")
    server.sql("CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(40))", "cronjob_source")
    server.sql("INSERT INTO things VALUES (1, 'one'), (2, 'ünï ''two''')", "cronjob_source")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "DATABASE_URL").write_text(url)
    env |= {"SECRETS_DIR": str(secrets), "BACKUP_KEEP": "2", "PATH": os.environ["PATH"]}
    written = []
    for _ in range(3):
        time.sleep(1.1)  # one file per second: the name carries the time
        run = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        written.append(Path(run.stdout.strip()))
    assert sorted(backups.iterdir()) == written[1:]

    target = server.create_database("cronjob_target")
    if database == "postgresql":
        restored = subprocess.run(["pg_restore", f"--dbname={target}", str(written[-1])])
    else:
        with written[-1].open("rb") as dump:
            restored = subprocess.run(
                [server.client, "--no-defaults", "-uroot", f"--socket={server.socket}",
                 "cronjob_target"], stdin=dump,
            )  # fmt: skip
    assert restored.returncode == 0
    found = server.sql("SELECT id, name FROM things ORDER BY id", "cronjob_target")
    # psql -A separates columns with |, mariadb -N with a tab.
    assert found.replace("\t", "|").splitlines() == ["1|one", "2|ünï 'two'"], found


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_compose_backup_service_and_documented_restore(request, bake, tmp_path, database):
    """compose.yaml's backup command and the guide's restore line, run by sh against a real
    server (the compose host `db` and account pointed at this test's server)."""
    project = bake(deployment="docker-compose", database=database)
    backup = yaml.safe_load((project / "compose.yaml").read_text())["services"]["backup"]
    assert backup["command"][:2] == ["sh", "-c"]
    guide = (project / "docs" / "deployment.md").read_text()
    line = next(
        ln for ln in guide.splitlines() if "docker compose run --rm" in ln and "<file>" in ln
    )
    restore = line.split(" && ")[1].split(" backup ", 1)[1]  # what runs in the backup container
    if restore.startswith("sh -c "):
        restore = shlex.split(restore)[2]

    server = request.getfixturevalue("postgresql" if database == "postgresql" else "mariadb")
    port = re.search(r":(\d+)/", server.create_database("app")).group(1)
    server.sql("CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(40))", "app")
    server.sql("INSERT INTO things VALUES (1, 'one'), (2, 'ünï ''two''')", "app")
    backups = tmp_path / "backups"
    backups.mkdir()
    user = "postgres" if database == "postgresql" else "app"

    def here(command: str) -> str:
        command = command.replace("$$", "$").replace("/backups/", f"{backups}/")
        command = command.replace("--host=db", f"--host=127.0.0.1 --port={port}")
        return command.replace("--username=app", f"--username={user}")

    ((key, _),) = backup["environment"].items()
    env = {**os.environ, key: PASSWORD}
    made = subprocess.run(["sh", "-c", here(backup["command"][2])], env=env, capture_output=True)
    assert made.returncode == 0, made.stderr
    (dump,) = backups.iterdir()
    assert dump.name.startswith("my_service-") and dump.stat().st_size > 0

    server.create_database("app")  # lost, and made again empty
    restored = subprocess.run(
        ["sh", "-c", here(restore).replace("<file>", dump.name)], env=env, capture_output=True
    )
    assert restored.returncode == 0, restored.stderr
    found = server.sql("SELECT id, name FROM things ORDER BY id", "app")
    assert found.replace("\t", "|").splitlines() == ["1|one", "2|ünï 'two'"], found

"""db/backup.py: SQLite backed up and restored for real; the server databases' commands as
built (the template's live restore drill runs them against real PostgreSQL and MariaDB)."""

import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from {{ cookiecutter.project_slug }}.config import get_settings
from {{ cookiecutter.project_slug }}.db import backup as db_backup
from {{ cookiecutter.project_slug }}.db.backup import (
    BackupError,
    Command,
)

ROWS = [(1, "first"), (2, "second, with 'quotes' and ünïcode")]


def sqlite_database(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO things VALUES (?, ?)", ROWS)
    connection.close()
    return f"sqlite:///{path}"


def rows(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT id, name FROM things ORDER BY id").fetchall()
    connection.close()
    return found


def test_sqlite_backup_and_restore(tmp_path):
    database = tmp_path / "app.db"
    url = sqlite_database(database)
    made = db_backup.backup(url, tmp_path / "backups", keep=3)
    assert made.parent == tmp_path / "backups"
    assert made.name.startswith(db_backup.PREFIX) and made.suffix == ".sqlite3"
    assert rows(made) == ROWS
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # no partial file left

    database.unlink()
    db_backup.restore(url, made)
    assert rows(database) == ROWS


def test_only_the_newest_backups_are_kept(tmp_path):
    url = sqlite_database(tmp_path / "app.db")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = [
        db_backup.backup(url, tmp_path / "b", keep=2, now=start + timedelta(days=day))
        for day in range(4)
    ]
    assert sorted((tmp_path / "b").iterdir()) == made[2:]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:////nonexistent-folder/app.db", "no SQLite database"),
    ],
)
def test_sqlite_refusals(tmp_path, url, message):
    with pytest.raises(BackupError, match=message):
        db_backup.backup(url, tmp_path, keep=1)


def test_backup_keeps_at_least_one(tmp_path):
    with pytest.raises(BackupError, match="BACKUP_KEEP"):
        db_backup.backup("sqlite:///x.db", tmp_path, keep=0)


def test_restore_refuses_a_missing_file_or_another_databases_backup(tmp_path):
    with pytest.raises(BackupError, match="is not a backup file"):
        db_backup.restore("sqlite:///x.db", tmp_path / "absent.sqlite3")
    dump = tmp_path / "x.pgdump"
    dump.write_bytes(b"PGDMP")
    with pytest.raises(BackupError, match=r"not a sqlite backup \(\.sqlite3\)"):
        db_backup.restore("sqlite:///x.db", dump)


def test_postgresql_password_goes_in_the_environment():
    url = make_url("postgresql+psycopg://app:s3cr%40t@db.example:5433/orders?sslmode=require")
    with db_backup.client(url, dump=True) as command:
        assert command.argv[: len(db_backup.PG_DUMP)] == db_backup.PG_DUMP
        assert command.argv[-1] == (
            "--dbname=postgresql://app@db.example:5433/orders?sslmode=require"
        )
        assert command.env == {"PGPASSWORD": "s3cr@t"}
    with db_backup.client(url, dump=False) as command:
        assert command.argv[0] == "pg_restore"


def test_mysql_connection_goes_in_a_private_option_file():
    url = make_url('mysql+pymysql://app:pa"ss@db.example:3307/orders')
    with db_backup.client(url, dump=True) as command:
        program, option, *rest = command.argv
        assert program == "mariadb-dump" and rest[-1] == "orders"
        assert not any('pa"ss' in word for word in rest)
        options = Path(option.removeprefix("--defaults-extra-file="))
        assert options.stat().st_mode & 0o077 == 0
        assert options.read_text().splitlines() == [
            "[client]",
            'host="db.example"',
            'port="3307"',
            'user="app"',
            'password="pa\\"ss"',
        ]
    assert not options.exists()


def test_a_failing_or_missing_program_is_an_error():
    with pytest.raises(BackupError, match="exited 3: gone wrong"):
        fails = "import sys; sys.stderr.write('gone wrong'); sys.exit(3)"
        db_backup.run(Command([sys.executable, "-c", fails], {}))
    with pytest.raises(BackupError, match="not-a-program is not installed"):
        db_backup.run(Command(["not-a-program"], {}))


@pytest.fixture
def settings_for(monkeypatch) -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_command_line_backs_up_to_backup_dir_and_restores(
    tmp_path, monkeypatch, capsys, settings_for
):
    database = tmp_path / "app.db"
    monkeypatch.setenv("DATABASE_URL", sqlite_database(database))
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("BACKUP_KEEP", "1")
    assert db_backup.main(["backup"]) == 0
    made = Path(capsys.readouterr().out.strip())
    assert made.parent == tmp_path / "backups"

    database.unlink()
    assert db_backup.main(["restore", str(made)]) == 0
    assert capsys.readouterr().out == f"restored {made}\n"
    assert rows(database) == ROWS

    assert db_backup.main(["restore", str(tmp_path / "absent.sqlite3")]) == 1
    assert "is not a backup file" in capsys.readouterr().err

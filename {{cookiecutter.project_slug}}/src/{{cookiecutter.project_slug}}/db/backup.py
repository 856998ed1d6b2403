{%- import "services.jinja" as services with context -%}
{%- macro argv(words) -%}
[
{%- for word in words %}
    "{{ word }}",
{%- endfor %}
]
{%- endmacro -%}
"""Back up and restore the database named by DATABASE_URL.

    python -m <package>.db.backup backup [--dir DIR] [--keep N]
    python -m <package>.db.backup restore FILE

One module for the three databases, picked by the URL: SQLite's online backup API (a
consistent copy while the service writes), pg_dump's custom format for PostgreSQL, and
mariadb-dump (or MySQL's mysqldump) for MySQL and MariaDB. The password reaches those
programs through their environment or a private option file, never their command line.

A backup is written under a temporary name and renamed once complete, so a failed one never
counts; then all but the newest BACKUP_KEEP backups in BACKUP_DIR are deleted.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import URL

from {{ cookiecutter.project_slug }}.config import get_settings
from {{ cookiecutter.project_slug }}.db.url import parse

PREFIX = "{{ cookiecutter.project_slug }}-"
# The programs and their options, as _templates/services.jinja gives them to every target.
PG_DUMP = {{ argv(services.catalog.postgresql.backup.dump) }}
PG_RESTORE = {{ argv(services.catalog.postgresql.backup.restore) }}
MYSQL_DUMP = {{ argv(services.catalog.mysql.backup.dump) }}
MYSQL_RESTORE = {{ argv(services.catalog.mysql.backup.restore) }}
SUFFIXES = {
    "sqlite": ".sqlite3",
    "postgresql": "{{ services.catalog.postgresql.backup.suffix }}",
    "mysql": "{{ services.catalog.mysql.backup.suffix }}",
    "mariadb": "{{ services.catalog.mysql.backup.suffix }}",
}
# MySQL's own clients, for a host that has them instead of MariaDB's.
FALLBACKS = {"mariadb-dump": "mysqldump", "mariadb": "mysql"}


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, without secrets."""


@dataclass(frozen=True)
class Command:
    """A client program's arguments and the environment it needs beyond ours."""

    argv: list[str]
    env: dict[str, str]


def backup(database_url: str, directory: Path, keep: int, now: datetime | None = None) -> Path:
    """Write a new backup into `directory`, keep the newest `keep`, return the new one."""
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be 1 or more")
    url = parse(database_url)
    backend = url.get_backend_name()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"{PREFIX}{stamp}{SUFFIXES[backend]}"
    partial = target.with_name(f".{target.name}.partial")
    try:
        if backend == "sqlite":
            copy_sqlite(sqlite_path(url), partial)
        else:
            with client(url, dump=True) as command:
                if backend == "postgresql":
                    run(Command([*command.argv, f"--file={partial}"], command.env))
                else:
                    with partial.open("wb") as out:
                        run(command, stdout=out)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    prune(directory, keep, SUFFIXES[backend])
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in `source`."""
    if not source.is_file():
        raise BackupError(f"{source} is not a backup file")
    url = parse(database_url)
    backend = url.get_backend_name()
    if not source.name.endswith(SUFFIXES[backend]):
        raise BackupError(f"{source.name} is not a {backend} backup ({SUFFIXES[backend]})")
    if backend == "sqlite":
        copy_sqlite(source, sqlite_path(url))
        return
    with client(url, dump=False) as command:
        if backend == "postgresql":
            run(Command([*command.argv, str(source)], command.env))
        else:
            with source.open("rb") as backup_file:
                run(command, stdin=backup_file)


def prune(directory: Path, keep: int, suffix: str) -> list[Path]:
    """Delete all but the newest `keep` backups (their names sort by time); return them."""
    found = sorted(directory.glob(f"{PREFIX}*{suffix}"))
    old = found[:-keep]
    for path in old:
        path.unlink()
    return old


def sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(url.database)


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, page by page, while others write."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    with closing(reader), closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


@contextmanager
def client(url: URL, *, dump: bool) -> Iterator[Command]:
    """The dump (or restore) program for the URL's server, connected to its database."""
    if url.get_backend_name() == "postgresql":
        # libpq reads the URL (host, port, user, database, sslmode...) and PGPASSWORD.
        conninfo = URL.create(
            "postgresql", url.username, None, url.host, url.port, url.database, url.query
        )
        argv = [*(PG_DUMP if dump else PG_RESTORE), f"--dbname={conninfo.render_as_string()}"]
        yield Command(argv, {"PGPASSWORD": url.password} if url.password else {})
        return
    # An option file only we can read carries the connection, the password included.
    options = ["[client]"]
    for key, value in (
        ("host", url.host),
        ("port", url.port),
        ("user", url.username),
        ("password", url.password),
        ("socket", url.query.get("unix_socket")),
    ):
        if value is not None:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            options.append(f'{key}="{escaped}"')
    descriptor, name = tempfile.mkstemp(prefix="mysql-", suffix=".cnf")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join(options) + "\n")
        program, *rest = MYSQL_DUMP if dump else MYSQL_RESTORE
        yield Command([program, f"--defaults-extra-file={name}", *rest, str(url.database)], {})
    finally:
        os.unlink(name)


def run(command: Command, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    program = command.argv[0]
    path = shutil.which(program) or shutil.which(FALLBACKS.get(program, program))
    if path is None:
        raise BackupError(f"{program} is not installed (the database's client package)")
    result = subprocess.run(  # noqa: S603 - fixed programs, no shell
        [path, *command.argv[1:]],
        env={**os.environ, **command.env},
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BackupError(f"{Path(path).name} exited {result.returncode}: {' '.join(message)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.project_slug }}.db.backup",
        description="Back up or restore the database named by DATABASE_URL.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    make = actions.add_parser("backup", help="write a new backup, keep the newest BACKUP_KEEP")
    make.add_argument("--dir", type=Path, help="where backups go (default: BACKUP_DIR)")
    make.add_argument("--keep", type=int, help="how many to keep (default: BACKUP_KEEP)")
    undo = actions.add_parser("restore", help="replace the database with a backup")
    undo.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    settings = get_settings()
    database_url = settings.database_url.get_secret_value()
    try:
        if args.action == "backup":
            directory = args.dir or settings.backup_dir
            keep = settings.backup_keep if args.keep is None else args.keep
            sys.stdout.write(f"{backup(database_url, directory, keep)}\n")
        else:
            restore(database_url, args.file)
            sys.stdout.write(f"restored {args.file}\n")
    except BackupError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real PostgreSQL, MariaDB and Redis servers on 127.0.0.1 for the live tiers.

Each server runs from a private data directory on a free port below 32768, so test
workers never share one and nothing on the machine is touched. `stop()` and `start()`
keep the port and the data, which is what the outage drills need. `.ci/run` installs
the Debian packages; where a server is missing the tests that need it are skipped with
the reason, never faked.
"""

import contextlib
import glob
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PASSWORD = "test-password"


def free_port() -> int:
    """A port below 32768 (outside Linux's ephemeral range) that nothing listens on."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_port_closed(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"127.0.0.1:{port} still listens after {timeout}s")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class Server:
    name = "server"

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.running = False
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """For servers run as a child process: terminate it and wait until the port is free."""
        if self.running and self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            wait_port_closed(self.port)
            self.running = False

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @contextlib.contextmanager
    def down(self):
        """Stopped inside the block, running again after it."""
        self.stop()
        try:
            yield self
        finally:
            self.start()


class PostgreSQL(Server):
    name = "postgresql"

    @staticmethod
    def binaries() -> Path | None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        return Path(found[-1]).parent if found else None

    def __init__(self) -> None:
        super().__init__()
        self.bin = self.binaries()
        self.data = self.dir / "data"
        # initdb and postgres refuse to run as root: run them as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        run([*self.as_user, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--no-sync"])  # fmt: skip
        self.start()
        self.sql(f"ALTER USER postgres PASSWORD '{PASSWORD}'")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -c fsync=off -c max_connections=300"
        run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
             "-l", str(self.dir / "log"), "-w", "-t", "60", "start"])  # fmt: skip
        self.running = True

    def stop(self) -> None:
        if self.running:
            run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                 "-w", "stop"])  # fmt: skip
            self.running = False

    def sql(self, statement: str, database: str = "postgres") -> str:
        return run([str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port),
                    "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc",
                    statement]).stdout  # fmt: skip

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its plain 12-factor URL."""
        self.sql(f'DROP DATABASE IF EXISTS "{name}"')
        self.sql(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/{name}"


class MariaDB(Server):
    name = "mariadb"

    @staticmethod
    def binaries() -> tuple[str, str, str] | None:
        server = shutil.which("mariadbd") or shutil.which("mysqld")
        if server is None and Path("/usr/sbin/mariadbd").exists():
            server = "/usr/sbin/mariadbd"
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        client = shutil.which("mariadb") or shutil.which("mysql")
        if not (server and install and client):
            return None
        return server, install, client

    def __init__(self) -> None:
        super().__init__()
        self.server, install, self.client = self.binaries()
        self.data = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        user = ["--user=root"] if os.geteuid() == 0 else []
        run([install, "--no-defaults", f"--datadir={self.data}", *user,
             "--auth-root-authentication-method=normal", "--skip-test-db"])  # fmt: skip
        self.start()
        self.sql(
            f"CREATE USER 'app'@'%' IDENTIFIED BY '{PASSWORD}';"
            " GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'; FLUSH PRIVILEGES;"
        )

    def start(self) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        self.log = open(self.dir / "log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [self.server, "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.socket}", *user,
             f"--pid-file={self.dir / 'mysqld.pid'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2",
             "--max-connections=300", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_port(self.port, timeout=60)
        self.running = True

    def stop(self) -> None:
        super().stop()
        self.log.close()

    def sql(self, statement: str, database: str = "mysql") -> str:
        return run([self.client, "--no-defaults", "-uroot", f"--socket={self.socket}",
                    "-N", "-D", database, "-e", statement]).stdout  # fmt: skip

    def create_database(self, name: str) -> str:
        self.sql(f"DROP DATABASE IF EXISTS `{name}`")
        self.sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return f"mysql://app:{PASSWORD}@127.0.0.1:{self.port}/{name}"


class Redis(Server):
    name = "redis"

    @staticmethod
    def binaries() -> str | None:
        return shutil.which("redis-server")

    def __init__(self, appendonly: bool = False) -> None:
        super().__init__()
        self.binary = self.binaries()
        # appendonly: what compose runs (`--appendonly yes` on a volume), for restart drills.
        self.appendonly = appendonly
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes" if self.appendonly else "no",
             "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)
        self.running = True

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def start_or_skip(kind: type[Server]) -> Server:
    if not kind.binaries():
        pytest.skip(f"{kind.name} is not installed here (.ci/run installs it)")
    return kind()


@pytest.fixture(scope="session")
def postgresql():
    server = start_or_skip(PostgreSQL)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def mariadb():
    server = start_or_skip(MariaDB)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def redis_server():
    server = start_or_skip(Redis)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def servers(request):
    """The server for a database answer: `servers("postgresql")` -> PostgreSQL."""
    names = {"postgresql": "postgresql", "mysql": "mariadb", "redis": "redis_server"}
    return lambda answer: request.getfixturevalue(names[answer])

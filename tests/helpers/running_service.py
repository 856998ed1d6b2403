"""Run a baked project as in production: `gunicorn -c gunicorn.conf.py` on 127.0.0.1.

Shared by the contract suite, the benchmarks and the drills:

    install(project, uv)
    with running(project, env={"RATE_LIMIT": "5/minute"}, workers=2) as service:
        service.get("/status")
        service.records()          # stdout, one parsed JSON object per line

Everything stays on 127.0.0.1; the port is a free one chosen per start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

SECRET = "contract-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install(project: Path, uv: str) -> None:
    """Install the project's dependencies into its own .venv (once per bake)."""
    subprocess.run([uv, "sync", "--quiet"], cwd=project, check=True, timeout=600)


@dataclass
class Service:
    project: Path
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    redis: Any = None  # the backing Redis server, when the test started one
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(base_url=self.url, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._client.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def lines(self) -> list[str]:
        """Everything the service wrote to stdout and stderr so far, line by line."""
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def records(self) -> list[dict[str, Any]]:
        """Each line parsed as JSON; a line that is not one JSON object fails loudly."""
        found = []
        for number, line in enumerate(self.lines(), 1):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise AssertionError(f"log line {number} is not JSON: {line!r}") from exc
            if not isinstance(record, dict):
                raise AssertionError(f"log line {number} is not an object: {line!r}")
            found.append(record)
        return found

    def wait_for_record(self, timeout: float = 5, **fields: Any) -> dict[str, Any]:
        """The first record with these field values, waiting for workers to write it."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.records():
                if all(record.get(k) == v for k, v in fields.items()):
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no log record with {fields}")
            time.sleep(0.05)

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Stop gunicorn with `sig` and return its exit code (killed after `timeout`)."""
        self._client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start(
    project: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    workers: int = 2,
    timeout: float = 60,
    log_dir: Path | None = None,
    poll: float = 0.1,
) -> Service:
    """Start gunicorn from the project's .venv in production mode; return once it is live
    (asked every `poll` seconds)."""
    port = free_port()
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="service-"))
    log_path = log_dir / f"gunicorn-{port}.log"
    full_env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET,
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        **(env or {}),
    }
    if "PROMETHEUS_MULTIPROC_DIR" not in (env or {}):
        # gunicorn.conf.py makes a fresh one; an inherited one could be shared by two services.
        full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = project / ".venv" / "bin" / "gunicorn"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", *args],
            cwd=project,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    service = Service(project, proc, port, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = "\n".join(service.lines()[-30:])
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if service.get("/health/live").status_code == 200:
                return service
        if time.monotonic() > deadline:
            service.stop(signal.SIGKILL)
            raise RuntimeError(f"gunicorn did not answer /health/live within {timeout}s")
        time.sleep(poll)


@contextlib.contextmanager
def running(project: Path, **kwargs: Any) -> Iterator[Service]:
    service = start(project, **kwargs)
    try:
        yield service
    finally:
        service.stop()


@dataclass
class JobWorker:
    """A baked project's background worker, `python -m <pkg>.jobs`, as its units run it."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    def lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def records(self) -> list[dict[str, Any]]:
        """Its JSON lines (a worker writes nothing else; a line that is not JSON fails)."""
        found = []
        for number, line in enumerate(self.lines(), 1):
            try:
                found.append(json.loads(line))
            except ValueError as exc:
                raise AssertionError(f"worker line {number} is not JSON: {line!r}") from exc
        return found

    def processes(self) -> list[int]:
        """Dramatiq's worker processes (and its metrics process): the command's children."""
        found = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        )
        return sorted(int(pid) for pid in found.stdout.split())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, float]:
        """Send `sig` (once, as a supervisor does); (exit code, seconds it took to exit).
        Past `timeout` every process of the worker is killed, as systemd's KillMode=mixed."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # what the parent left behind, if anything
        return self.proc.returncode, time.monotonic() - started


def start_worker(
    project: Path, env: Mapping[str, str], log_dir: Path, timeout: float = 60
) -> JobWorker:
    """Start the worker from the project's .venv; return once every process has booted."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(tempfile.mkstemp(prefix="worker-", suffix=".log", dir=log_dir)[1])
    package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
    full_env = {**os.environ, "ENVIRONMENT": "production", "SECRET_KEY": SECRET, **env}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the worker makes its own
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(project / ".venv" / "bin" / "python"), "-m", f"{package}.jobs"],
            cwd=project,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: a stop can reach every process it started.
            start_new_session=True,
        )
    worker = JobWorker(proc, log_path)
    wanted = int(full_env.get("JOBS_PROCESSES", "1"))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{worker.lines()[-30:]}")
        ready = [line for line in worker.lines() if "Worker process is ready" in line]
        if len(ready) >= wanted:
            return worker
        if time.monotonic() > deadline:
            worker.stop(signal.SIGKILL)
            raise RuntimeError(f"worker not ready within {timeout}s:\n{worker.lines()[-30:]}")
        time.sleep(0.1)

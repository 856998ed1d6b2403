"""Measure what the generated production stack costs next to the bare framework.

Bakes the template per framework, runs the generated service under its own
gunicorn.conf.py and, in the same run, a bare app of the same framework under the
same gunicorn settings and worker count; drives both with wrk, alternating A B A B,
on 127.0.0.1 only. Prints tables; asserts nothing about speed.

    python benchmarks/run.py            # full run (a few minutes)
    python benchmarks/run.py --smoke    # a second or two per figure
    python benchmarks/run.py --sentry   # only the error tracking rows (--tracing: tracing's)
    python benchmarks/run.py --bake --baseline main   # only bake time, beside main's template
    python benchmarks/run.py --only-green --baseline main   # bake to green, A/B
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from cookiecutter import hooks
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parent.parent
BARE = Path(__file__).resolve().parent / "bare"
sys.path.insert(0, str(ROOT))

from tests.helpers.credentials import HEADERS  # noqa: E402 - after the path is set
from tests.helpers.drills import worker_pids  # noqa: E402
from tests.helpers.running_service import Service, start, start_worker  # noqa: E402
from tests.helpers.servers import PostgreSQL, Redis  # noqa: E402
from tests.helpers.template import MATRIX_KEYS, POST_HOOK, combo_id, context, matrix  # noqa: E402

FRAMEWORKS = ("fastapi", "flask")


def uv() -> str:
    """uv installed beside this interpreter (by `pip install -e .[test]`), or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    path = str(beside) if beside.is_file() else shutil.which("uv")
    if path is None:
        sys.exit("uv is not installed: pip install -e '.[test]'")
    return path


def install_to_serve(project: Path) -> None:
    """The project's environment as deployed: with compiled bytecode (the Dockerfile's
    UV_COMPILE_BYTECODE, docs/deployment.md's `--compile-bytecode`), so start-up figures do not
    count compiling every module from source where no .pyc can be written."""
    subprocess.run([uv(), "sync", "--quiet", "--compile-bytecode"], cwd=project, check=True)


def bake(output: Path, template: Path = ROOT, **answers: object) -> Path:
    args = [f"{k}={v}" for k, v in answers.items()]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-f",
            "-o",
            str(output),
            str(template),
            *args,
        ],
        check=True,
        capture_output=True,
    )
    return output / "my_service"


def worker_rss_kib(server: Service) -> list[int]:
    sizes = []
    for pid in worker_pids(server):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)))
    return sizes


SHM = Path("/dev/shm")
METRICS_DIRS: list[str] = []


def serve(
    project: Path, env: dict[str, str], app: str | None, log_dir: Path, poll: float = 0.1
) -> Service:
    """The project's service, or with `app` a bare app, under the project's gunicorn.conf.py."""
    env = {
        "LOG_LEVEL": "INFO",
        # Far above what the benchmark sends: measure the limiter's cost, not its 429s.
        "RATE_LIMIT": "100000000/minute",
        # One worker recycled mid-round would leave the port unserved for a moment.
        "GUNICORN_MAX_REQUESTS": "0",
        **env,
    }
    args = ["--pythonpath", str(BARE), app] if app else []
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        # Where the deployments put it: /run (systemd) or a memory emptyDir (Kubernetes).
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-", dir=SHM)
        METRICS_DIRS.append(env["PROMETHEUS_MULTIPROC_DIR"])
    return start(project, env=env, args=args, workers=1, log_dir=log_dir, poll=poll)


@dataclass
class Figures:
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0

    def add(self, other: Figures) -> None:
        self.rps += other.rps
        self.p50_ms += other.p50_ms
        self.p99_ms += other.p99_ms
        self.cpu_us += other.cpu_us
        self.requests += other.requests
        self.errors += other.errors


# With two or more cores, the services share the last one and wrk has the first: neither
# steals the other's core, and only one side is driven at a time.
CORES = sorted(os.sched_getaffinity(0))
SERVICE_CORE = CORES[-1]
WRK_CORES = CORES[:-1] or CORES


def pin(server: Service, cores: list[int] | None = None) -> None:
    """The service's processes on the service core, or on `cores`."""
    for pid in [server.proc.pid, *worker_pids(server)]:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cores or {SERVICE_CORE})


def cpu_seconds(server: Service) -> float:
    """User plus system CPU time of the service's workers so far."""
    total = 0
    for pid in worker_pids(server):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * UNIT_MS[unit]


def wrk(
    url: str,
    seconds: float,
    connections: int,
    script: Path | None = None,
    cores: list[int] | None = None,
) -> Figures:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    # Every request carries the API key (a bare app or auth=none ignores it).
    command += [arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    if script:
        command += ["-s", str(script)]
    cores = cores or WRK_CORES
    out = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    ).stdout
    # Anchored: "72.50%" in the thread stats above must not pass for the 50th percentile.
    p50 = re.search(r"^\s+50%\s+([\d.]+[a-z]+)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+[a-z]+)\s*$", out, re.M)
    if p50 is None or p99 is None:
        raise RuntimeError(f"wrk measured nothing on {url}:\n{out}")
    figures = Figures()
    figures.rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))
    figures.requests = int(re.search(r"(\d+) requests in", out).group(1))
    figures.p50_ms.append(_ms(p50.group(1)))
    figures.p99_ms.append(_ms(p99.group(1)))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    figures.errors += int(errors.group(1)) if errors else 0
    figures.errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return figures


def compare(
    generated: Service,
    bare: Service,
    scenario: Scenario,
    rounds: int,
    seconds: float,
    connections: int,
) -> tuple[Figures, Figures]:
    """A B A B ...: both sides see the same machine noise."""
    ours, theirs = Figures(), Figures()
    script = POST_SCRIPT if scenario.method == "POST" else None
    # Unpinned, the services and wrk share every core, as on a host that runs other work.
    cores = CORES if not scenario.pinned else None
    for server in (generated, bare):
        pin(server, cores)
    # Warm both up so the first round does not pay for imports and JIT-less caches.
    wrk(generated.url + scenario.path, 1, connections, script, cores)
    wrk(bare.url + scenario.path, 1, connections, script, cores)
    for _ in range(rounds):
        for server, figures in ((generated, ours), (bare, theirs)):
            before = cpu_seconds(server)
            measured = wrk(server.url + scenario.path, seconds, connections, script, cores)
            spent = cpu_seconds(server) - before
            measured.cpu_us.append(spent / max(1, measured.requests) * 1e6)
            figures.add(measured)
    for server in (generated, bare):
        pin(server)
    return ours, theirs


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median of the ratios of rounds run back to back: a slow spell of the host that
    hits one pair of rounds moves one ratio, not the medians of both sides."""
    return median([a / b for a, b in zip(ours, theirs, strict=True) if b])


def print_throughput(rows: list[tuple[str, str, Figures, Figures]]) -> None:
    print(
        "\n## Throughput and latency (median of the rounds; generated vs bare; "
        "ratios: median of the back-to-back pairs)\n"
    )
    print(
        "| framework | path | generated req/s | bare req/s | ratio | generated p50 / p99 ms "
        "| bare p50 / p99 ms | p99 ratio | CPU µs per request (gen/bare) "
        "| non-2xx+errors (gen/bare) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for framework, path, ours, theirs in rows:
        ratio = paired_ratio(ours.rps, theirs.rps)
        p99_ratio = paired_ratio(ours.p99_ms, theirs.p99_ms)
        print(
            f"| {framework} | {path} | {median(ours.rps):,.0f} | {median(theirs.rps):,.0f} "
            f"| {ratio:.0%} | {median(ours.p50_ms):.2f} / {median(ours.p99_ms):.2f} "
            f"| {median(theirs.p50_ms):.2f} / {median(theirs.p99_ms):.2f} | {p99_ratio:.2f}x "
            f"| {median(ours.cpu_us):.0f} / {median(theirs.cpu_us):.0f} "
            f"| {ours.errors} / {theirs.errors} |"
        )


AUTH_PATH = "/api/v1/items"


def auth_figures(
    generated: Service, work: Path, framework: str, url: str, args: argparse.Namespace
) -> tuple[Figures, Figures]:
    """GET /api/v1/items on the generated service (auth=api-key, the default) and on the same
    project baked with auth=none, over the same database: what checking the key costs."""
    project = bake(
        work / f"{framework}-noauth", framework=framework, database="sqlite", auth="none"
    )
    install_to_serve(project)
    open_service = serve(project, {"DATABASE_URL": url}, None, work)
    try:
        pin(open_service)
        time.sleep(1)
        return compare(
            generated,
            open_service,
            Scenario("sqlite", AUTH_PATH),
            args.rounds,
            args.seconds,
            args.connections,
        )
    finally:
        open_service.stop()


def print_auth_cost(rows: list[tuple[str, Figures, Figures]]) -> None:
    print(f"\n## Authentication cost (`GET {AUTH_PATH}`, sqlite; api-key vs none, one run)\n")
    print(
        "| framework | CPU µs per request, api-key | none | cost µs | req/s api-key | none "
        "| p50 ms api-key / none | non-2xx+errors (api-key/none) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for framework, keyed, open_ in rows:
        cost = median(keyed.cpu_us) - median(open_.cpu_us)
        print(
            f"| {framework} | {median(keyed.cpu_us):.0f} | {median(open_.cpu_us):.0f} "
            f"| {cost:+.0f} | {median(keyed.rps):,.0f} | {median(open_.rps):,.0f} "
            f"| {median(keyed.p50_ms):.2f} / {median(open_.p50_ms):.2f} "
            f"| {keyed.errors} / {open_.errors} |"
        )


def bake_times(
    work: Path, repeats: int, limit: int | None, templates: dict[str, Path]
) -> list[tuple[str, dict[str, float]]]:
    """Seconds of a whole `cookiecutter --no-input` process per combination and template, the
    median of `repeats`; the templates alternate, A B A B."""
    results = []
    combos = matrix()[:limit] if limit else matrix()
    for combo in combos:
        durations: dict[str, list[float]] = {name: [] for name in templates}
        for attempt in range(repeats):
            for name, template in templates.items():
                out = work / f"bake-{attempt}"
                started = time.perf_counter()
                bake(out, template, **combo)
                durations[name].append(time.perf_counter() - started)
                shutil.rmtree(out)
        label = combo_id({key: combo[key] for key in MATRIX_KEYS})
        results.append((label, {name: statistics.median(d) for name, d in durations.items()}))
    return results


def median_bake_seconds(out: Path, template: Path, repeats: int) -> float:
    """Median seconds of a whole `cookiecutter --no-input` process baking `template` into `out`."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        bake(out, template)
        durations.append(time.perf_counter() - started)
        shutil.rmtree(out)
    return statistics.median(durations)


def floor_seconds(work: Path, repeats: int) -> float:
    """Median seconds of a whole `cookiecutter --no-input` process for a one-file template: the
    floor any template's bake stands on (start-up, imports, one render)."""
    template = work / "floor-template"
    (template / "{{cookiecutter.project_slug}}").mkdir(parents=True, exist_ok=True)
    (template / "cookiecutter.json").write_text('{"project_slug": "floor"}')
    (template / "{{cookiecutter.project_slug}}" / "README.md").write_text(
        "{{ cookiecutter.project_slug }}\n"
    )
    return median_bake_seconds(work / "floor", template, repeats)


def structure_seconds(work: Path, repeats: int) -> float:
    """Median seconds of a whole `cookiecutter --no-input` process for this template's own tree
    with both hooks emptied (`pass`): what its shape costs before any answer is checked or any
    file rendered (cookiecutter copying the tree, and starting an interpreter for each hook)."""
    template = work / "structure-template"
    shutil.rmtree(template, ignore_errors=True)
    shutil.copytree(
        ROOT,
        template,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "tests", "benchmarks", "docs", "*.egg-info"
        ),
    )
    for hook in ("pre_gen_project.py", "post_gen_project.py"):
        (template / "hooks" / hook).write_text("pass\n", encoding="utf-8")
    return median_bake_seconds(work / "structure", template, repeats)


@contextlib.contextmanager
def silenced_stdout():
    """Standard output to /dev/null, this process's and its children's (the hooks print)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def python_seconds(code: str, *args: str, repeats: int) -> float:
    """Median seconds of a fresh interpreter running `code`."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], check=True)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def bake_breakdown(work: Path, repeats: int) -> list[tuple[str, float]]:
    """Where a default bake of this template spends its time, each part the median of
    `repeats`: cookiecutter called in this process with its hooks timed as it runs them, the
    post-generation hook's start-up (a fresh interpreter loading it, nothing run), and the
    hook's renaming and rendering run here on a copy cookiecutter made without hooks."""
    spent: dict[str, list[float]] = {"all": [], "pre_gen_project": [], "post_gen_project": []}
    run_script_with_context = hooks.run_script_with_context

    def timed(script_path: str, cwd: str, context: dict) -> None:
        started = time.perf_counter()
        run_script_with_context(script_path, cwd, context)
        spent[Path(script_path).stem].append(time.perf_counter() - started)

    hooks.run_script_with_context = timed
    try:
        with silenced_stdout():
            for _ in range(repeats):
                started = time.perf_counter()
                cookiecutter(str(ROOT), no_input=True, output_dir=str(work / "inside"))
                spent["all"].append(time.perf_counter() - started)
                shutil.rmtree(work / "inside")
    finally:
        hooks.run_script_with_context = run_script_with_context

    answers = context({})["cookiecutter"]
    steps: dict[str, list[float]] = {"names": [], "manifest": [], "render": []}
    for _ in range(repeats):
        out = str(work / "raw")
        root = Path(cookiecutter(str(ROOT), no_input=True, output_dir=out, accept_hooks=False))
        manifest = yaml.safe_load((root / ".template-manifest.yaml").read_text(encoding="utf-8"))
        marks = [time.perf_counter()]
        env = POST_HOOK.environment(answers, root, manifest["shared"])
        POST_HOOK.render_names(root, env, answers)
        marks.append(time.perf_counter())
        POST_HOOK.apply_manifest(manifest, answers, root)
        marks.append(time.perf_counter())
        skip = {manifest["shared"], ".template-manifest.yaml", *manifest.get("verbatim", [])}
        POST_HOOK.render_files(root, env, answers, skip)
        marks.append(time.perf_counter())
        for step, before, after in zip(steps, marks, marks[1:], strict=False):
            steps[step].append(after - before)
        shutil.rmtree(work / "raw")

    interpreter = python_seconds("pass", repeats=repeats)
    loaded = python_seconds(
        "import runpy, sys; runpy.run_path(sys.argv[1])",
        str(ROOT / "hooks" / "post_gen_project.py"),
        repeats=repeats,
    )
    whole = median(spent["all"])
    pre, post = median(spent["pre_gen_project"]), median(spent["post_gen_project"])
    return [
        ("cookiecutter called in process (its own imports done)", whole),
        ("- pre-generation hook (rendered, then run by a fresh interpreter)", pre),
        ("- post-generation hook, the same", post),
        ("- the rest: context, copying the template, replay file", whole - pre - post),
        ("post hook: a fresh interpreter", interpreter),
        ("post hook: its imports (PyYAML, Jinja, cookiecutter)", loaded - interpreter),
        ("post hook: naming the paths (in process)", median(steps["names"])),
        ("post hook: applying the manifest (in process)", median(steps["manifest"])),
        ("post hook: rendering the files kept (in process)", median(steps["render"])),
    ]


def print_bake_times(work: Path, args: argparse.Namespace) -> None:
    """The bake-time tables: per combination (beside the --baseline template's, alternating),
    cookiecutter's own floor, and where a default bake's time goes."""
    templates = {"this": ROOT}
    if args.baseline:
        templates[args.baseline] = template_at(args.baseline, work)
    repeats = 1 if args.smoke else 3
    times = bake_times(work, repeats, 4 if args.smoke else None, templates)
    floor = floor_seconds(work, repeats * 3)
    names = list(templates)
    alternating = ", templates alternating" if len(names) > 1 else ""
    print(f"\n## Bake time per combination (median of {repeats}{alternating})\n")
    print("| combination | " + " | ".join(f"{name} s" for name in names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for label, seconds in times:
        print(f"| {label} | " + " | ".join(f"{seconds[name]:.2f}" for name in names) + " |")
    medians = {name: statistics.median(s[name] for _, s in times) for name in names}
    print("| **median of all** | " + " | ".join(f"**{medians[n]:.2f}**" for n in names) + " |")
    print(
        f"| cookiecutter itself, a one-file template (median of {repeats * 3}) | "
        + " | ".join(f"{floor:.2f}" for _ in names)
        + " |"
    )
    print(
        "| **median bake / cookiecutter itself** | "
        + " | ".join(f"**{medians[n] / floor:.2f}x**" for n in names)
        + " |"
    )
    structure = structure_seconds(work, repeats * 3)
    print(
        f"| this template's tree with both hooks empty (median of {repeats * 3}) | "
        + " | ".join(
            f"{structure:.2f} ({structure / floor:.2f}x)" if n == "this" else "-" for n in names
        )
        + " |"
    )
    print(f"\n## Where a default bake's time goes (this template, median of {repeats * 3})\n")
    print("| part | seconds |")
    print("| --- | ---: |")
    for part, seconds in bake_breakdown(work, repeats * 3):
        print(f"| {part} | {seconds:.3f} |")


def children_cpu_seconds() -> float:
    """User plus system CPU time of this process's finished children and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bake_to_green(work: Path, framework: str, template: Path = ROOT) -> tuple[float, float, str]:
    """Seconds from `cookiecutter --no-input` to green tests, the CPU seconds they took (on a
    shared host the steadier figure), and the suite's slowest tests."""
    started = time.perf_counter()
    cpu_started = children_cpu_seconds()
    project = bake(work / f"green-{framework}", template, framework=framework)
    subprocess.run([uv(), "sync", "--quiet"], cwd=project, check=True)
    run = subprocess.run(
        [uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", "--durations=5"],
        cwd=project,
        check=False,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    cpu = children_cpu_seconds() - cpu_started
    shutil.rmtree(project.parent)
    if run.returncode != 0:
        # A red suite is a finding, not a crash of the whole run: its failures are printed.
        failed = re.findall(r"^(FAILED \S+)", run.stdout, re.M) or [run.stdout[-300:]]
        return float("nan"), float("nan"), "RED: " + "; ".join(failed)
    slowest = re.findall(r"^([\d.]+s (?:setup|call|teardown) +\S+)$", run.stdout, re.M)
    return seconds, cpu, "; ".join(slowest)


def template_at(revision: str, work: Path) -> Path:
    """This repository's template as it was at `revision`, to measure against."""
    folder = work / f"template-{revision}"
    if folder.is_dir():  # the bake times and bake to green share it
        return folder
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


@dataclass(frozen=True)
class Scenario:
    database: str
    path: str
    method: str = "GET"
    pinned: bool = True

    @property
    def label(self) -> str:
        where = self.database if self.pinned else f"{self.database}, unpinned"
        return f"`{self.method} {self.path}` ({where})"


SEED_ITEMS = 20
ONE_ITEM = f"/api/v1/items/{SEED_ITEMS // 2}"
# Figures per framework; the generated and the bare app share the database. The inserts come
# last for each database: the reads before them see the same 20 rows.
SCENARIOS = [
    Scenario("sqlite", "/status"),
    Scenario("sqlite", "/status", pinned=False),
    *(
        Scenario(database, path, method)
        for database in ("sqlite", "postgresql")
        for method, path in (
            ("GET", "/health/ready"),
            ("GET", "/api/v1/items"),
            ("GET", ONE_ITEM),
            ("POST", "/api/v1/items"),
        )
    ),
]
# wrk's Lua script for the inserts: the same body on every request.
POST_SCRIPT_TEXT = """
wrk.method = "POST"
wrk.body = '{"name": "benchmark item", "description": "benchmark row"}'
wrk.headers["Content-Type"] = "application/json"
"""
POST_SCRIPT = Path(tempfile.gettempdir()) / "bench-post-item.lua"
# The driver each framework's generated service picks for a plain URL (docs/data-layer.md).
BARE_SCHEMES = {
    ("fastapi", "sqlite"): "sqlite+aiosqlite",
    ("flask", "sqlite"): "sqlite",
    ("fastapi", "postgresql"): "postgresql+psycopg",
    ("flask", "postgresql"): "postgresql+psycopg",
}


def prepare_database(
    project: Path, work: Path, framework: str, database: str, pg: PostgreSQL | None
) -> str:
    """A migrated database for this project; returns its plain URL."""
    if database == "sqlite":
        url = f"sqlite:///{work / f'{framework}.db'}"
    else:
        url = pg.create_database(f"bench_{framework}")
    subprocess.run(
        [uv(), "run", "--no-sync", "alembic", "upgrade", "head"],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    return url


def seed(server: Service) -> None:
    for n in range(SEED_ITEMS):
        body = json.dumps({"name": f"item {n}", "description": "benchmark row"}).encode()
        request = urllib.request.Request(
            f"{server.url}/api/v1/items",
            data=body,
            headers={"Content-Type": "application/json", **HEADERS},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status != 201:
                raise RuntimeError(f"seeding failed: {response.status}")


def bare_url(framework: str, database: str, url: str) -> str:
    return BARE_SCHEMES[framework, database] + url[url.index(":") :]


def create_items(url: str, count: int, threads: int = 8) -> list[float]:
    """POST `count` items, `threads` at a time; each request's seconds."""

    def one(n: int) -> float:
        body = json.dumps({"name": f"job item {n}"}).encode()
        request = urllib.request.Request(
            f"{url}/api/v1/items",
            data=body,
            headers={"Content-Type": "application/json", **HEADERS},
            method="POST",
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 201:
                raise RuntimeError(f"item creation failed: {response.status}")
        return time.perf_counter() - started

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def jobs_figures(work: Path, pg: PostgreSQL, items: int) -> list[tuple[str, ...]]:
    """Per framework: creating an item with and without background_jobs (one gunicorn worker,
    the same Redis), and the example job's throughput in one worker process."""
    redis = Redis()
    rows = []
    try:
        for framework in FRAMEWORKS:
            figures = {}
            for jobs in (False, True):
                project = bake(
                    work / f"jobs-{framework}-{jobs}",
                    framework=framework,
                    database="postgresql",
                    use_redis="true",
                    background_jobs=str(jobs).lower(),
                )
                install_to_serve(project)
                env = {"REDIS_URL": redis.url(db=1 if jobs else 2)}
                database = f"bench_jobs_{framework}_{str(jobs).lower()}"
                url = pg.create_database(database)
                subprocess.run(
                    [uv(), "run", "--no-sync", "alembic", "upgrade", "head"],
                    cwd=project,
                    env={**os.environ, "DATABASE_URL": url},
                    check=True,
                    capture_output=True,
                )
                env["DATABASE_URL"] = url
                server = serve(project, env, None, work)
                try:
                    create_items(server.url, 20)  # warm up
                    started = time.perf_counter()
                    seconds = create_items(server.url, items)
                    figures[jobs] = (items / (time.perf_counter() - started), seconds)
                finally:
                    server.stop()
                if jobs:
                    # Every item created above has a job waiting: one process drains them.
                    worker = start_worker(
                        project,
                        {**env, "JOBS_PROCESSES": "1", "JOBS_THREADS": "8", "LOG_LEVEL": "INFO"},
                        work,
                    )
                    started = time.perf_counter()
                    deadline = started + 300
                    done = 0
                    while done < items + 20 and time.perf_counter() < deadline:
                        time.sleep(0.05)
                        done = sum(
                            1 for r in worker.records() if r.get("event") == "item_processed"
                        )
                    elapsed = time.perf_counter() - started
                    worker.stop()
                    figures["worker"] = done / elapsed
            (plain_rps, plain), (jobs_rps, with_jobs) = figures[False], figures[True]
            rows.append(
                (
                    framework,
                    f"{plain_rps:,.0f}",
                    f"{median(plain) * 1000:.1f}",
                    f"{jobs_rps:,.0f}",
                    f"{median(with_jobs) * 1000:.1f}",
                    f"{figures['worker']:,.0f}",
                )
            )
    finally:
        redis.cleanup()
    return rows


class SpanSink:
    """An OTLP/HTTP endpoint on 127.0.0.1 that takes every export and keeps nothing: the traced
    service pays for encoding and sending its spans, as it would to a collector."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# /status with each part of observability on, beside the same project with it off and bare.
# "{sink}" in a value stands for the local sink's address.
TRACING_VARIANTS = (
    ("tracing off (OTEL_SDK_DISABLED)", {"OTEL_SDK_DISABLED": "true"}),
    # Every request dropped: the cost of deciding and of the ids on the logs and headers.
    ("tracing at 0.0", {"TRACE_SAMPLE_RATIO": "0.0"}),
    ("tracing at 1.0", {"TRACE_SAMPLE_RATIO": "1.0"}),
    ("tracing at 0.1", {"TRACE_SAMPLE_RATIO": "0.1"}),
    # The spans made but never exported: the 0.1 row less this one is the export's cost.
    (
        "tracing at 0.1, not exported",
        {"TRACE_SAMPLE_RATIO": "0.1", "OTEL_TRACES_EXPORTER": "none"},
    ),
)
# The same with sentry=true too, on one project baked with both answers; the first row (nothing
# on) is what each part's microseconds are counted over.
NO_TRACING = {"OTEL_SDK_DISABLED": "true"}
SENTRY_DSN = {"SENTRY_DSN": "http://bench@{sink}/1"}
SENTRY_VARIANTS = (
    ("nothing on (no SENTRY_DSN, OTEL_SDK_DISABLED)", NO_TRACING),
    ("Sentry on (errors only)", {**NO_TRACING, **SENTRY_DSN}),
    (
        "Sentry on, its traces at 0.1",
        {**NO_TRACING, **SENTRY_DSN, "SENTRY_TRACES_SAMPLE_RATE": "0.1"},
    ),
    ("tracing at 0.1 alone", {"TRACE_SAMPLE_RATIO": "0.1"}),
    ("both on (tracing at 0.1 + Sentry)", {"TRACE_SAMPLE_RATIO": "0.1", **SENTRY_DSN}),
)


def cost_figures(
    work: Path,
    args: argparse.Namespace,
    answers: dict[str, str],
    variants: tuple[tuple[str, dict[str, str]], ...],
) -> list[tuple[str, ...]]:
    """Per framework: /status of the project baked with `answers`, once per variant, each
    against the bare app in the same run; its CPU per request counted over the first's."""
    sink = SpanSink()
    rows = []
    try:
        for framework in FRAMEWORKS:
            project = bake(
                work / f"observed-{framework}-{'-'.join(answers)}",
                framework=framework,
                database="sqlite",
                **answers,
            )
            install_to_serve(project)
            url = prepare_database(project, work, framework, "sqlite", None)
            # The bare app runs under the same gunicorn.conf.py, whose post_fork would set the
            # SDKs up: FastAPI would then trace the bare app too. It gets no SENTRY_DSN.
            bare_env = {
                "BARE_DATABASE_URL": bare_url(framework, "sqlite", url),
                "OTEL_SDK_DISABLED": "true",
            }
            bare = serve(project, bare_env, f"{framework}_bare:app", work)
            first_cpu = None
            address = sink.url.removeprefix("http://")
            try:
                pin(bare)
                for label, extra in variants:
                    env = {
                        "DATABASE_URL": url,
                        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
                        **{k: v.replace("{sink}", address) for k, v in extra.items()},
                    }
                    generated = serve(project, env, None, work)
                    try:
                        pin(generated)
                        time.sleep(1)
                        ours, theirs = compare(
                            generated,
                            bare,
                            Scenario("sqlite", "/status"),
                            args.rounds,
                            args.seconds,
                            args.connections,
                        )
                    finally:
                        generated.stop()
                    cpu = median(ours.cpu_us)
                    first_cpu = cpu if first_cpu is None else first_cpu
                    rows.append(
                        (
                            framework,
                            label,
                            f"{median(ours.rps):,.0f}",
                            f"{median(theirs.rps):,.0f}",
                            f"{paired_ratio(ours.rps, theirs.rps):.0%}",
                            f"{cpu:.0f} / {median(theirs.cpu_us):.0f}",
                            f"{cpu - first_cpu:+.0f}",
                            f"{ours.errors}",
                        )
                    )
            finally:
                bare.stop()
    finally:
        sink.close()
    return rows


def tracing_figures(work: Path, args: argparse.Namespace) -> list[tuple[str, ...]]:
    """/status with opentelemetry=true: tracing off, sampling everything and a tenth."""
    return cost_figures(work, args, {"opentelemetry": "true"}, TRACING_VARIANTS)


def sentry_figures(work: Path, args: argparse.Namespace) -> list[tuple[str, ...]]:
    """/status with opentelemetry=true and sentry=true: each part alone, and both."""
    answers = {"opentelemetry": "true", "sentry": "true"}
    return cost_figures(work, args, answers, SENTRY_VARIANTS)


def print_cost(title: str, part: str, over: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n## {title}\n")
    print(
        f"| framework | {part} | generated req/s | bare req/s | ratio | CPU µs per request "
        f"(gen/bare) | µs over {over} | non-2xx+errors |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {' | '.join(row)} |")


def print_tracing(rows: list[tuple[str, ...]]) -> None:
    title = (
        "Tracing cost: `GET /status` (sqlite) with opentelemetry=true, exporting to a local "
        "OTLP/HTTP sink"
    )
    print_cost(title, "tracing", "tracing off", rows)


def print_sentry(rows: list[tuple[str, ...]]) -> None:
    title = (
        "Error tracking cost: `GET /status` (sqlite) with opentelemetry=true and sentry=true, "
        "sending to a local sink"
    )
    print_cost(title, "on", "nothing on", rows)


STARTS = 3


def time_to_ready(project: Path, env: dict[str, str], app: str | None, log_dir: Path) -> float:
    """Median seconds from spawning gunicorn (one worker) to the first 200 on /health/ready."""
    times = []
    for _ in range(STARTS):
        started = time.perf_counter()
        server = serve(project, env, app, log_dir, poll=0.005)
        try:
            while server.get("/health/ready").status_code != 200:
                time.sleep(0.005)
            times.append(time.perf_counter() - started)
        finally:
            server.stop()
    return median(times)


def start_postgresql() -> PostgreSQL | None:
    """A private PostgreSQL server when one is installed, else None (its rows are skipped)."""
    return PostgreSQL() if PostgreSQL.binaries() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run that only proves it works")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one wrk round")
    parser.add_argument("--rounds", type=int, default=4, help="A B rounds per figure")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-postgresql", action="store_true", help="skip the PostgreSQL figures")
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="also time bakes and bake to green with the template at this revision, alternating",
    )
    parser.add_argument(
        "--bake",
        action="store_true",
        help="measure only bake time (with --baseline, beside that revision's template)",
    )
    parser.add_argument(
        "--only-generation",
        action="store_true",
        help="measure only bake time and bake to green",
    )
    parser.add_argument(
        "--only-green",
        action="store_true",
        help="measure only bake to green (against --baseline when given)",
    )
    parser.add_argument(
        "--green-repeats",
        type=int,
        default=3,
        metavar="N",
        help="bake-to-green runs per template and framework",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="PATH",
        help="measure only this path (repeatable), and skip the generation figures",
    )
    parser.add_argument(
        "--tracing", action="store_true", help="measure only the tracing cost (opentelemetry=true)"
    )
    parser.add_argument(
        "--sentry",
        action="store_true",
        help="measure only the error tracking cost (sentry=true, beside opentelemetry=true)",
    )
    args = parser.parse_args()
    if args.bake:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            print_bake_times(Path(tmp), args)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    if args.smoke:
        args.seconds, args.rounds = 1.0, 1

    print(
        f"# Benchmark: {os.cpu_count()} cores, wrk -t1 -c{args.connections}, "
        f"{args.rounds} rounds x {args.seconds:.0f}s per side, 1 gunicorn worker each"
    )
    if args.tracing or args.sentry:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            try:
                if args.tracing:
                    print_tracing(tracing_figures(Path(tmp), args))
                if args.sentry:
                    print_sentry(sentry_figures(Path(tmp), args))
            finally:
                for path in METRICS_DIRS:
                    shutil.rmtree(path, ignore_errors=True)
        return
    rows = []
    memory = []
    auth_rows = []
    scenarios = [s for s in SCENARIOS if not args.only or s.path in args.only]
    if not scenarios:
        sys.exit(f"--only: no such path; choose from {sorted({s.path for s in SCENARIOS})}")
    POST_SCRIPT.write_text(POST_SCRIPT_TEXT)
    needs_postgresql = any(s.database == "postgresql" for s in scenarios)
    generation_only = args.only_generation or args.only_green
    skip_postgresql = args.no_postgresql or generation_only or not needs_postgresql
    pg = None if skip_postgresql else start_postgresql()
    if pg is None and needs_postgresql and not generation_only:
        print("(PostgreSQL figures skipped: no server installed or --no-postgresql)")
    databases = ["sqlite"] + (["postgresql"] if pg else [])
    databases = [db for db in databases if any(db == s.database for s in scenarios)]
    if generation_only:
        databases = []
    startup = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            work = Path(tmp)
            for framework in FRAMEWORKS:
                for database in databases:
                    project = bake(
                        work / f"{framework}-{database}", framework=framework, database=database
                    )
                    install_to_serve(project)
                    url = prepare_database(project, work, framework, database, pg)
                    sides = (
                        ({"DATABASE_URL": url}, None),
                        (
                            {"BARE_DATABASE_URL": bare_url(framework, database, url)},
                            f"{framework}_bare:app",
                        ),
                    )
                    if database == "sqlite":
                        startup.append(
                            (framework, *(time_to_ready(project, *side, work) for side in sides))
                        )
                    generated, bare = (serve(project, *side, work) for side in sides)
                    try:
                        pin(generated)
                        pin(bare)
                        seed(generated)
                        time.sleep(1)
                        if database == "sqlite":
                            memory.append(
                                (framework, worker_rss_kib(generated), worker_rss_kib(bare))
                            )
                        for scenario in scenarios:
                            if scenario.database != database:
                                continue
                            ours, theirs = compare(
                                generated,
                                bare,
                                scenario,
                                args.rounds,
                                args.seconds,
                                args.connections,
                            )
                            rows.append((framework, scenario.label, ours, theirs))
                        if database == "sqlite" and (not args.only or AUTH_PATH in args.only):
                            keyed, open_ = auth_figures(generated, work, framework, url, args)
                            auth_rows.append((framework, keyed, open_))
                    finally:
                        generated.stop()
                        bare.stop()
            if rows:
                print_throughput(rows)
            if auth_rows:
                print_auth_cost(auth_rows)
            if memory:
                print("\n## Idle resident memory of one worker (KiB)\n")
                print("| framework | generated | bare | ratio |")
                print("| --- | ---: | ---: | ---: |")
                for framework, ours, theirs in memory:
                    ratio = max(ours) / max(theirs)
                    print(f"| {framework} | {max(ours):,} | {max(theirs):,} | {ratio:.2f}x |")
            if startup:
                print(
                    "\n## From process start to the first 200 on /health/ready "
                    f"(SQLite, median of {STARTS})\n"
                )
                print("| framework | generated s | bare s | ratio |")
                print("| --- | ---: | ---: | ---: |")
                for framework, ours, theirs in startup:
                    print(f"| {framework} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f}x |")
            if args.only:
                return

            if not args.only_green:
                print_bake_times(work, args)

            templates = {"this": ROOT}
            if args.baseline:
                templates[args.baseline] = template_at(args.baseline, work)
            repeats = 1 if args.smoke else args.green_repeats
            print(
                "\n## From bake to green tests (cookiecutter, uv sync, pytest; warm uv cache; "
                f"median of {repeats}, templates alternating)\n"
            )
            print("| framework | template | seconds | CPU seconds | slowest tests (last run) |")
            print("| --- | --- | ---: | ---: | --- |")
            for framework in FRAMEWORKS:
                runs: dict[str, list[float]] = {name: [] for name in templates}
                cpus: dict[str, list[float]] = {name: [] for name in templates}
                slowest = {}
                for _ in range(repeats):
                    for name, template in templates.items():
                        seconds, cpu, slowest[name] = bake_to_green(work, framework, template)
                        runs[name].append(seconds)
                        cpus[name].append(cpu)
                for name in templates:
                    figures = f"{median(runs[name]):.1f} | {median(cpus[name]):.1f}"
                    print(f"| {framework} | {name} | {figures} | {slowest[name]} |")
                if args.baseline:
                    ratio = paired_ratio(runs["this"], runs[args.baseline])
                    cpu_ratio = paired_ratio(cpus["this"], cpus[args.baseline])
                    print(
                        f"| {framework} | **this / {args.baseline}** | **{ratio:.2f}x** "
                        f"| **{cpu_ratio:.2f}x** | |"
                    )

            if generation_only:
                return
            items = 50 if args.smoke else 1000
            print(f"\n## Background jobs ({items} items created 8 at a time, PostgreSQL, Redis)\n")
            if pg is None or Redis.binaries() is None:
                print("(skipped: needs PostgreSQL and Redis installed)")
            else:
                print(
                    "| framework | create/s without jobs | p50 ms | create/s with jobs | p50 ms "
                    "| worker jobs/s (1 process, 8 threads) |"
                )
                print("| --- | ---: | ---: | ---: | ---: | ---: |")
                for row in jobs_figures(work, pg, items):
                    print(f"| {' | '.join(row)} |")

            print_tracing(tracing_figures(work, args))
            print_sentry(sentry_figures(work, args))
    finally:
        for path in METRICS_DIRS:
            shutil.rmtree(path, ignore_errors=True)
        if pg is not None:
            pg.cleanup()


if __name__ == "__main__":
    main()

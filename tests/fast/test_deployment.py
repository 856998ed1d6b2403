"""Deployment files, checked by the programs that will read them in production.

nginx -t, systemd-analyze, hadolint, docker compose and kubectl kustomize +
kubernetes-validate, for both frameworks. Nothing is built or started here (there is
no container engine); the live end-to-end test of the vm target is in tests/live/test_vm.py.
"""

import importlib.util
import ipaddress
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import find_tool
from tests.helpers.deployment_tools import (
    SERVICE,
    dummy_certificate,
    fail2ban_regex,
    nginx_test,
    output,
    run,
    system_tool,
)

FRAMEWORKS = ("fastapi", "flask")
# The most the unit may score in `systemd-analyze security` (0 = locked down, 10 = exposed).
MAX_EXPOSURE = 2.0
GUNICORN_GRACEFUL_TIMEOUT = 30
JOBS = {"use_redis": True, "background_jobs": True}


# ---------------------------------------------------------------- vm: nginx + systemd


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_vm_nginx_site_passes_nginx_t(bake, tmp_path, framework):
    project = bake(framework=framework, deployment="vm", database="postgresql")
    site = (project / "deploy" / "nginx" / f"{SERVICE}.conf").read_text(encoding="utf-8")
    certs = dummy_certificate(tmp_path / "certs")
    assert "/etc/letsencrypt/live/api.example.com/fullchain.pem" in site
    site = site.replace("/etc/letsencrypt/live/api.example.com/", f"{certs}/")

    result = nginx_test(site, tmp_path / "minimal")
    assert result.returncode == 0, output(result)
    assert "warn" not in result.stderr, result.stderr
    if Path("/etc/nginx/nginx.conf").is_file():
        result = nginx_test(site, tmp_path / "stock", stock=True)
        assert result.returncode == 0, output(result)


def test_vm_nginx_site_has_what_production_needs(bake):
    project = bake(deployment="vm")
    site = (project / "deploy" / "nginx" / f"{SERVICE}.conf").read_text(encoding="utf-8")
    directives = {line.strip() for line in site.splitlines()}

    assert "include" not in {d.split(" ")[0] for d in directives}
    assert "return 301 https://$host$request_uri;" in directives
    assert "location /.well-known/acme-challenge/ {" in directives
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in directives
    assert "server_tokens off;" in directives
    assert "client_max_body_size 1m;" in directives
    assert "proxy_read_timeout 30s;" in directives
    # A connection a stopping worker closed unanswered: idempotent requests are sent once more
    # to the same gunicorn (its backup entry), a POST never.
    assert "server 127.0.0.1:8000 max_fails=0 backup;" in directives
    assert "proxy_next_upstream error timeout;" in directives
    assert not any("non_idempotent" in d for d in directives if not d.startswith("#"))
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in directives
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in directives
    assert "proxy_set_header X-Request-ID $my_service_request_id;" in directives
    assert "default $request_id;" in directives
    assert any(d.startswith("add_header Strict-Transport-Security") for d in directives)
    assert any(d.startswith("log_format my_service_json escape=json") for d in directives)
    assert any(d.startswith("gzip_types application/json") for d in directives)
    # Rate limited everywhere but the liveness probe.
    health = site.split("location = /health/live {")[1].split("}")[0]
    root = site.split("location / {\n        limit_req")[1].split("}")[0]
    assert "limit_req" not in health and "zone=my_service_requests" in root
    assert_exposure_rules(site, "zone=my_service_requests", tls=True)


def locations(site: str) -> dict[str, str]:
    """Each `location` of a site (by its argument) and its body; location bodies nest nothing."""
    found = re.findall(r"^\s*location ([^{]+?) \{\n(.*?)^\s*\}", site, flags=re.M | re.S)
    return dict(found)


def location_for(site_locations: dict[str, str], path: str) -> str:
    """The location nginx picks for a (normalised) path: exact, then regex, then longest prefix."""
    for argument in site_locations:
        if argument == f"= {path}":
            return argument
    for argument in site_locations:
        if argument.startswith("~ ") and re.search(argument[2:], path):
            return argument
    prefixes = [a for a in site_locations if not a.startswith(("=", "~")) and path.startswith(a)]
    return max(prefixes, key=len)


def assert_exposure_rules(site: str, zone: str, *, tls: bool) -> None:
    """What the security review asked of an nginx site in front of the service (issue 21)."""
    found = locations(site)
    directives = [line.strip() for line in site.splitlines()]
    # Only the liveness probe skips the rate limit, and only at its exact path.
    assert "limit_req" not in found[location_for(found, "/health/live")]
    for path in ("/status", "/api/v1/items", "/health/", "/health/livex", "/health/x", "/healthz"):
        assert zone in found[location_for(found, path)], path
    # Readiness, the detailed health and metrics: from this host only.
    for path in ("/health/ready", "/health", "/metrics"):
        body = found[location_for(found, path)]
        rules = [line.strip() for line in body.splitlines()]
        # nginx applies the first rule that matches: the allow must come before the deny.
        assert rules.index("allow 127.0.0.1;") < rules.index("deny all;"), path
    # A Host that is not the site's is dropped, on every port the site listens on.
    servers = site.split("\nserver {")[1:]
    defaults = [s for s in servers if "default_server" in s]
    assert len(defaults) == (2 if tls else 1)
    assert all("return 444;" in s and "server_name" not in s for s in defaults)
    if tls:
        https = next(s for s in defaults if " ssl " in s)
        assert "ssl_reject_handshake on;" in https
    named = [s for s in servers if s not in defaults]
    assert all("server_name api.example.com" in s for s in named)
    # The service never sees the client's Host.
    assert "proxy_set_header Host api.example.com;" in directives
    assert not any(d.startswith("proxy_set_header") and "$host" in d for d in directives)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_vm_systemd_unit_verifies_and_is_hardened(bake, tmp_path, framework):
    project = bake(framework=framework, deployment="vm", database="sqlite")
    unit = (project / "deploy" / "systemd" / f"{SERVICE}.service").read_text(encoding="utf-8")
    # verify checks that ExecStart's program exists: point it at a stand-in.
    gunicorn = tmp_path / "venv" / "bin" / "gunicorn"
    gunicorn.parent.mkdir(parents=True)
    gunicorn.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    gunicorn.chmod(0o755)
    installed = f"/srv/{SERVICE}/venv/bin/gunicorn"
    assert f"ExecStart={installed} -c gunicorn.conf.py" in unit
    copy = tmp_path / f"{SERVICE}.service"
    copy.write_text(unit.replace(installed, str(gunicorn)), encoding="utf-8")

    systemd_analyze = system_tool("systemd-analyze")
    verify = run(systemd_analyze, "verify", str(copy))
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", output(verify)

    security = run(systemd_analyze, "security", "--offline=yes", "--no-pager", str(copy))
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", security.stdout)
    assert found, output(security)
    assert float(found.group(1)) <= MAX_EXPOSURE, security.stdout

    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["Type"] == "notify"
    assert settings["User"] == SERVICE
    assert settings["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert settings["Restart"] == "on-failure"
    assert settings["EnvironmentFile"] == f"/etc/{SERVICE}/{SERVICE}.env"
    assert int(settings["TimeoutStopSec"]) > GUNICORN_GRACEFUL_TIMEOUT
    assert set(settings["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_vm_backup_unit_and_timer_verify_and_are_hardened(bake, tmp_path, database):
    project = bake(deployment="vm", database=database)
    folder = project / "deploy" / "systemd" / "backup"
    unit = (folder / f"{SERVICE}-backup.service").read_text(encoding="utf-8")
    timer = (folder / f"{SERVICE}-backup.timer").read_text(encoding="utf-8")
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    python.chmod(0o755)
    installed = f"/srv/{SERVICE}/venv/bin/python"
    assert f"ExecStart={installed} -m my_service.db.backup backup" in unit
    copy = tmp_path / f"{SERVICE}-backup.service"
    copy.write_text(unit.replace(installed, str(python)), encoding="utf-8")
    (tmp_path / f"{SERVICE}-backup.timer").write_text(timer, encoding="utf-8")

    systemd_analyze = system_tool("systemd-analyze")
    verify = run(systemd_analyze, "verify", str(copy), str(tmp_path / f"{SERVICE}-backup.timer"))
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", output(verify)
    security = run(systemd_analyze, "security", "--offline=yes", "--no-pager", str(copy))
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", security.stdout)
    assert found, output(security)
    assert float(found.group(1)) <= MAX_EXPOSURE, security.stdout

    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["Type"] == "oneshot"
    assert settings["User"] == SERVICE
    assert settings["EnvironmentFile"] == f"/etc/{SERVICE}/{SERVICE}.env"
    assert settings["Environment"] == f"BACKUP_DIR=/var/lib/{SERVICE}-backups"
    assert settings["StateDirectory"].split() == [SERVICE, f"{SERVICE}-backups"]
    web = (project / "deploy" / "systemd" / f"{SERVICE}.service").read_text(encoding="utf-8")
    sandbox = web[web.index("NoNewPrivileges") : web.index("[Install]")].strip()
    assert sandbox in unit  # the web unit's sandbox, line for line
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer


def test_vm_without_a_database_has_no_backup_units(bake):
    project = bake(deployment="vm", database="none")
    assert not (project / "deploy" / "systemd" / "backup").exists()
    assert (project / "deploy" / "systemd" / f"{SERVICE}.service").is_file()


def access_line(site: str, **values: str) -> str:
    """One access log line as the site's log_format writes it, values escaped as nginx's
    escape=json does."""
    fmt = re.search(r"log_format \w+ escape=json\n((?:\s*'[^']*'\n?)+);", site)
    assert fmt, "no JSON log_format in the site"
    text = "".join(re.findall(r"'([^']*)'", fmt.group(1)))
    defaults = {"time_iso8601": "2026-12-01T10:00:00+00:00", "request_method": "GET"}
    values = {**defaults, **values}

    def value(match: re.Match) -> str:
        raw = values.get(match.group(1), "")
        return raw.replace("\\", "\\\\").replace('"', '\\"')

    return re.sub(r"\$\{?(\w+)\}?", value, text)


def test_vm_fail2ban_filter_matches_429_and_401_only(bake, tmp_path):
    project = bake(deployment="vm", database="sqlite")
    site = (project / "deploy" / "nginx" / f"{SERVICE}.conf").read_text(encoding="utf-8")
    filter_file = project / "deploy" / "fail2ban" / "filter.d" / f"{SERVICE}.conf"

    def line(status: str, client: str = "203.0.113.7", uri: str = "/status") -> str:
        return access_line(site, status=status, remote_addr=client, request_uri=uri)

    flood = [line("429"), line("401", uri="/metrics"), line("429", client="2001:db8::7")]
    assert fail2ban_regex(flood, filter_file, tmp_path) == (3, 3)
    # Ordinary answers, and text a client chose made to look like a failing status.
    forged = '/x","status":429,"'
    ordinary = [line("200"), line("404"), line("403"), line("200", uri=forged)]
    ordinary.append(access_line(site, status="200", remote_addr="203.0.113.9",
                                http_user_agent='","status":401,"'))  # fmt: skip
    assert fail2ban_regex(ordinary, filter_file, tmp_path) == (5, 0)


def test_vm_fail2ban_jail_loads(bake, tmp_path):
    """fail2ban-client reads the jail and filter within Debian's own configuration."""
    project = bake(deployment="vm", database="sqlite")
    config = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", config)
    # Debian's default sshd jail needs an auth log this machine may not have.
    for default in (config / "jail.d").iterdir():
        default.unlink()
    shipped = project / "deploy" / "fail2ban"
    shutil.copy(shipped / "filter.d" / f"{SERVICE}.conf", config / "filter.d")
    jail = (shipped / "jail.d" / f"{SERVICE}.conf").read_text(encoding="utf-8")
    logpath = f"/var/log/nginx/{SERVICE}.access.log"
    assert f"logpath = {logpath}" in jail
    (tmp_path / "access.log").touch()
    jail = jail.replace(logpath, str(tmp_path / "access.log"))
    (config / "jail.d" / f"{SERVICE}.conf").write_text(jail, encoding="utf-8")

    client = system_tool("fail2ban-client")
    tested = run(client, "-c", str(config), "-t")
    assert tested.returncode == 0, output(tested)
    dump = run(client, "-c", str(config), "-d").stdout
    assert f"['add', '{SERVICE}', 'auto']" in dump
    assert f"['set', '{SERVICE}', 'maxretry', 30]" in dump
    assert "addfailregex" in dump and "401|429" in dump
    assert "iptables" in dump or "nftables" in dump  # a ban action on the ports


def env_example(project: Path) -> dict[str, str]:
    """The settings' defaults as .env.example documents them."""
    text = (project / ".env.example").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_vm_worker_unit_verifies_and_is_hardened_like_the_web_one(bake, tmp_path, framework):
    project = bake(framework=framework, deployment="vm", database="postgresql", **JOBS)
    systemd = project / "deploy" / "systemd"
    unit = (systemd / f"{SERVICE}-worker.service").read_text(encoding="utf-8")
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    python.chmod(0o755)
    installed = f"/srv/{SERVICE}/venv/bin/python"
    assert f"ExecStart={installed} -m my_service.jobs" in unit
    copy = tmp_path / f"{SERVICE}-worker.service"
    copy.write_text(unit.replace(installed, str(python)), encoding="utf-8")

    systemd_analyze = system_tool("systemd-analyze")
    verify = run(systemd_analyze, "verify", str(copy))
    assert verify.returncode == 0 and verify.stdout + verify.stderr == "", output(verify)
    security = run(systemd_analyze, "security", "--offline=yes", "--no-pager", str(copy))
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", security.stdout)
    assert found, output(security)
    assert float(found.group(1)) <= MAX_EXPOSURE, security.stdout

    def settings(text: str) -> dict[str, str]:
        return dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"
        )

    worker = settings(unit)
    web = settings((systemd / f"{SERVICE}.service").read_text(encoding="utf-8"))
    # Every sandboxing line of the web unit, the same in the worker's.
    sandbox = web.keys() - {"Type", "NotifyAccess", "ExecStart", "ExecReload", "Environment"}
    sandbox -= {"Description", "RuntimeDirectory", "TimeoutStopSec"}
    assert {key: worker.get(key) for key in sandbox} == {key: web[key] for key in sandbox}
    defaults = env_example(project)
    # The supervisor's liveness signal: the watchdog, fed by every worker process.
    assert float(worker["WatchdogSec"]) >= float(defaults["JOBS_LIVENESS_MAX_AGE"])
    assert worker["NotifyAccess"] == "all"
    assert int(worker["TimeoutStopSec"]) > float(defaults["JOBS_SHUTDOWN_GRACE"])
    assert worker["Environment"] != web["Environment"].split("\n")[-1]
    assert worker["RuntimeDirectory"] in worker["Environment"]


# ---------------------------------------------------------------- containers


@pytest.fixture(scope="session")
def hadolint() -> str:
    return find_tool("hadolint")


@pytest.mark.parametrize(
    ("framework", "database", "deployment"),
    [
        ("fastapi", "sqlite", "docker-compose"),
        ("flask", "postgresql", "docker-compose"),
        ("fastapi", "mysql", "kubernetes"),
        ("flask", "none", "kubernetes"),
    ],
)
def test_dockerfile_passes_hadolint(bake, hadolint, framework, database, deployment):
    project = bake(framework=framework, database=database, deployment=deployment)
    result = run(hadolint, "--failure-threshold", "style", "Dockerfile", cwd=project)
    assert result.returncode == 0 and result.stdout == "", output(result)

    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    assert stages[-1].startswith("python:") and stages[-1].endswith("-slim-bookworm")
    runtime = dockerfile.split("AS runtime")[1]
    assert "uv" not in re.findall(r"\b\w+\b", runtime.split("HEALTHCHECK")[0].replace(".venv", ""))
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.M)
    healthcheck = runtime.split("HEALTHCHECK")[1].split("\nCMD ")[0]
    assert 'CMD ["python", "-c"' in healthcheck and "/health/live" in healthcheck
    assert "apt-get" not in runtime and "pip install" not in runtime
    ignored = (project / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".env", ".git", "tests"} <= set(ignored)


COMPOSE_COMBOS = [
    {"framework": FRAMEWORKS[i % 2], "database": database, "use_redis": redis}
    for i, (database, redis) in enumerate(
        (d, r) for d in ("sqlite", "postgresql", "mysql", "none") for r in (False, True)
    )
] + [
    {"framework": "fastapi", "database": "postgresql", **JOBS},
    {"framework": "flask", "database": "none", **JOBS},
]


@pytest.mark.parametrize(
    "answers",
    COMPOSE_COMBOS,
    ids=lambda a: (
        f"{a['framework']}-{a['database']}-redis-{a['use_redis']}".lower()
        + ("-jobs" if a.get("background_jobs") else "")
    ),
)
def test_compose_file_is_valid_and_complete(bake, tmp_path, answers):
    project = bake(deployment="docker-compose", **answers)
    result = run(find_tool("docker-compose"), "config", "--quiet", cwd=project)
    assert result.returncode == 0 and result.stdout + result.stderr == "", output(result)

    services = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))["services"]
    with_db = answers["database"] != "none"
    expected = {"app", "nginx"} | ({"migrate", "backup"} if with_db else set())
    expected |= {"db"} if answers["database"] in ("postgresql", "mysql") else set()
    expected |= {"redis"} if answers["use_redis"] else set()
    jobs = answers.get("background_jobs", False)
    expected |= {"worker"} if jobs else set()
    assert set(services) == expected
    for name, service in services.items():
        if name not in {"migrate", "backup"}:
            assert "healthcheck" in service, name
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert condition == {"condition": wanted}, (name, dependency)
    if with_db:
        assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
        assert "migrate" in services["app"]["depends_on"]
        # One backup per `docker compose run --rm backup`; `up` leaves it alone.
        assert services["backup"]["profiles"] == ["backup"]
        command = " ".join(services["backup"]["command"])
        dump = {
            "sqlite": "-m my_service.db.backup backup",
            "postgresql": "pg_dump --format=custom",
            "mysql": "mariadb-dump --single-transaction",
        }[answers["database"]]
        assert dump in command
    assert services["app"]["env_file"] == [{"path": ".env", "required": False}]
    for entry in services["app"]["environment"]["TRUSTED_PROXIES"].split(","):
        ipaddress.ip_network(entry, strict=False)
    assert "ports" not in services["app"] and services["nginx"]["ports"]
    if answers["use_redis"]:
        # Redis keeps what it holds (the jobs queue above all) across restarts.
        redis = services["redis"]
        assert redis["command"] == ["redis-server", "--appendonly", "yes"]
        assert redis["volumes"] == ["redis-data:/data"]
    if jobs:
        assert_compose_worker(project, services, with_db)

    # The nginx it runs: compose's service name mapped to loopback for the syntax test.
    site = (project / "deploy" / "compose" / "nginx.conf").read_text(encoding="utf-8")
    assert "server app:8000;" in site
    result = nginx_test(site.replace("server app:8000;", "server 127.0.0.1:8000;"), tmp_path)
    assert result.returncode == 0, output(result)
    assert_exposure_rules(site, "zone=requests", tls=False)


def assert_compose_worker(project: Path, services: dict, with_db: bool) -> None:
    worker, app = services["worker"], services["app"]
    assert worker["command"] == ["python", "-m", "my_service.jobs"]
    assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "my_service.jobs.health"]
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert ("migrate" in worker["depends_on"]) == with_db
    # The app's image, settings and sandbox.
    for key in ("build", "env_file", "environment", "read_only", "tmpfs", "cap_drop"):
        assert worker[key] == app[key], key
    grace = float(env_example(project)["JOBS_SHUTDOWN_GRACE"])
    assert float(worker["stop_grace_period"].removesuffix("s")) > grace


@pytest.mark.parametrize(
    ("framework", "database", "use_redis", "background_jobs"),
    [
        ("fastapi", "postgresql", True, False),
        ("flask", "mysql", False, False),
        ("flask", "none", True, False),
        ("fastapi", "mysql", True, True),
        ("flask", "postgresql", True, True),
    ],
)
def test_kustomize_overlays_build_and_validate(
    bake, tmp_path, framework, database, use_redis, background_jobs
):
    project = bake(
        framework=framework,
        database=database,
        use_redis=use_redis,
        background_jobs=background_jobs,
        deployment="kubernetes",
    )
    kubernetes = project / "deploy" / "kubernetes"
    example = (kubernetes / "secrets.env.example").read_text(encoding="utf-8")
    assert ("DATABASE_URL=" in example) == (database != "none")
    assert ("REDIS_URL=" in example) == use_redis
    kubectl, validate = find_tool("kubectl"), find_tool("kubernetes-validate")
    overlays = sorted(p.name for p in (kubernetes / "overlays").iterdir())
    assert overlays == ["production", "staging"]

    for overlay in overlays:
        shutil.copy(
            kubernetes / "secrets.env.example", kubernetes / "overlays" / overlay / "secrets.env"
        )
        built = run(kubectl, "kustomize", str(kubernetes / "overlays" / overlay))
        assert built.returncode == 0, output(built)
        manifest = tmp_path / f"{overlay}.yaml"
        manifest.write_text(built.stdout, encoding="utf-8")
        checked = run(validate, "--strict", "--quiet", str(manifest))
        assert checked.returncode == 0, output(checked)

        objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built.stdout)}
        kinds = {kind for kind, _ in objects}
        assert kinds == {
            "Namespace", "ConfigMap", "Secret", "Service", "Deployment", "Ingress",
            "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            *(["Job", "CronJob", "PersistentVolumeClaim"] if database != "none" else []),
        }  # fmt: skip
        namespace = f"{SERVICE}-{overlay}"
        assert all(
            o["metadata"].get("namespace") == namespace
            for (kind, _), o in objects.items()
            if kind != "Namespace"
        )
        deployment = objects[("Deployment", SERVICE)]["spec"]
        pod = deployment["template"]["spec"]
        container = pod["containers"][0]
        assert deployment["replicas"] >= 2
        assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert set(container["resources"]) == {"requests", "limits"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/tmp/metrics"} <= mounts
        assert pod["terminationGracePeriodSeconds"] > GUNICORN_GRACEFUL_TIMEOUT
        assert deployment["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
        ingress = objects[("Ingress", SERVICE)]["spec"]
        host = "api.example.com" if overlay == "production" else "staging.api.example.com"
        assert ingress["rules"][0]["host"] == host and ingress["tls"][0]["hosts"] == [host]
        assert_ingress_routes_only_public_paths(ingress, overlay)
        assert_secrets_are_files(pod, container, objects)
        assert_network_policies(objects, database, use_redis, container, background_jobs)
        if background_jobs:
            assert_kubernetes_worker(project, objects, pod)
        if database != "none":
            job = objects[("Job", f"{SERVICE}-migrate")]["spec"]["template"]["spec"]
            assert job["containers"][0]["command"] == ["alembic", "upgrade", "head"]
            assert_secrets_are_files(job, job["containers"][0], objects)
            backup = objects[("CronJob", f"{SERVICE}-backup")]["spec"]["jobTemplate"]["spec"]
            backup_pod = backup["template"]["spec"]
            assert backup_pod["securityContext"] == pod["securityContext"]
            backup_container = backup_pod["containers"][0]
            assert backup_container["securityContext"] == container["securityContext"]
            assert_secrets_are_files(backup_pod, backup_container, objects)
            claim = next(v for v in backup_pod["volumes"] if v["name"] == "backups")
            assert claim["persistentVolumeClaim"]["claimName"] == f"{SERVICE}-backups"
            assert ("PersistentVolumeClaim", f"{SERVICE}-backups") in objects
        config = next(o for (kind, _), o in objects.items() if kind == "ConfigMap")
        assert config["data"]["ENVIRONMENT"] == overlay
        # The service parses each entry as an address or network ("*" would not start).
        for entry in config["data"]["TRUSTED_PROXIES"].split(","):
            ipaddress.ip_network(entry, strict=False)


def ingress_routes(ingress: dict, path: str) -> bool:
    """Whether the Ingress sends `path` to the service, by the Kubernetes path-matching rules:
    Exact is the whole path; Prefix matches by `/`-separated elements (`/api` is `/api` and
    `/api/...`, not `/apix`)."""
    for rule in ingress["rules"]:
        for entry in rule["http"]["paths"]:
            wanted, kind = entry["path"], entry["pathType"]
            if kind == "Exact" and path == wanted:
                return True
            prefix = wanted.rstrip("/")
            if kind == "Prefix" and (path == prefix or path.startswith(prefix + "/")):
                return True
    return False


def assert_ingress_routes_only_public_paths(ingress: dict, overlay: str) -> None:
    # Operational paths stay inside the cluster, however spelt that the ingress passes on.
    for path in ("/metrics", "/health", "/health/ready", "/health/", "/metrics/", "/"):
        assert not ingress_routes(ingress, path), path
    for path in ("/api/v1/items", "/api/v1/items/1", "/status", "/health/live"):
        assert ingress_routes(ingress, path), path
    docs = overlay != "production"
    assert ingress_routes(ingress, "/docs") is docs
    assert ingress_routes(ingress, "/openapi.json") is docs


def assert_secrets_are_files(pod: dict, container: dict, objects: dict) -> None:
    """The Secret reaches the container as files in SECRETS_DIR, never as variables."""
    secret = next(name for kind, name in objects if kind == "Secret")
    assert not any("secretRef" in source for source in container.get("envFrom", []))
    assert not any("valueFrom" in variable for variable in container.get("env", []))
    volume = next(v for v in pod["volumes"] if "secret" in v)
    assert volume["secret"]["secretName"] == secret  # kustomize's hashed name: it rolls the pods
    assert volume["secret"]["defaultMode"] == 0o440
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    variables = {v["name"]: v.get("value") for v in container["env"]}
    assert variables["SECRETS_DIR"] == mount["mountPath"]


def assert_kubernetes_worker(project: Path, objects: dict, web_pod: dict) -> None:
    deployment = objects[("Deployment", f"{SERVICE}-worker")]["spec"]
    pod = deployment["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["replicas"] >= 2
    assert container["command"] == ["python", "-m", "my_service.jobs"]
    health = ["python", "-m", "my_service.jobs.health"]
    assert container["livenessProbe"]["exec"]["command"] == health
    assert container["startupProbe"]["exec"]["command"] == health
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"] == web_pod["securityContext"]
    assert container["securityContext"] == web_pod["containers"][0]["securityContext"]
    assert_secrets_are_files(pod, container, objects)
    defaults = env_example(project)
    wanted = float(defaults["JOBS_TIME_LIMIT"]) + float(defaults["JOBS_SHUTDOWN_GRACE"])
    assert pod["terminationGracePeriodSeconds"] >= wanted
    variables = {v["name"]: v.get("value") for v in container["env"]}
    assert variables["JOBS_METRICS_ADDRESS"] == "0.0.0.0"
    port = container["ports"][0]["containerPort"]
    assert port == int(defaults["JOBS_METRICS_PORT"])
    annotations = deployment["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    budget = objects[("PodDisruptionBudget", f"{SERVICE}-worker")]["spec"]
    assert budget["minAvailable"] == 1
    assert budget["selector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"


def assert_network_policies(
    objects: dict, database: str, use_redis: bool, web: dict, jobs: bool = False
) -> None:
    policies = {name: o["spec"] for (kind, name), o in objects.items() if kind == "NetworkPolicy"}
    with_db = {f"{SERVICE}-migration", f"{SERVICE}-backup"} if database != "none" else set()
    expected = {f"{SERVICE}-web"} | with_db | ({f"{SERVICE}-worker"} if jobs else set())
    assert set(policies) == expected
    backing = {"postgresql": {5432}, "mysql": {3306}}.get(database, set())
    for name, spec in policies.items():
        component = name.removeprefix(f"{SERVICE}-")
        # The pods of this service only: kustomize adds its name labels to the selector.
        assert spec["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/name": SERVICE,
            "app.kubernetes.io/part-of": SERVICE,
        }
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        # DNS and the chosen backing services only, each on its own port.
        dns, *others = spec["egress"]
        assert dns["to"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
        ]
        assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
        ports = {p["port"] for rule in others for p in rule["ports"]}
        # Redis for the web and the worker; the Jobs (migration, backup) need the database only.
        wanted = backing | ({6379} if use_redis and component in ("web", "worker") else set())
        assert ports == wanted, (name, ports)
        for rule in others:
            for peer in rule["to"]:
                ipaddress.ip_network(peer["ipBlock"]["cidr"])
        if component in ("migration", "backup"):
            assert "ingress" not in spec  # nothing may reach a Job's pod
            continue
        if component == "worker":  # Prometheus only, on the metrics port
            (rule,) = spec["ingress"]
            assert rule["ports"] == [{"port": "metrics"}]
            assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
                "kubernetes.io/metadata.name": "monitoring"
            }
            continue
        # Only the ingress controller and Prometheus, and only on the service's port.
        sources = [
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for rule in spec["ingress"]
            for peer in rule["from"]
        ]
        assert sources == ["ingress-nginx", "monitoring"]
        port = web["ports"][0]["name"]
        assert all(rule["ports"] == [{"port": port}] for rule in spec["ingress"])


# ---------------------------------------------------------------- paas


@pytest.mark.parametrize(
    ("framework", "database", "jobs"),
    [
        ("fastapi", "postgresql", False),
        ("flask", "none", False),
        ("flask", "mysql", False),
        ("fastapi", "mysql", True),
    ],
)
def test_procfile(bake, framework, database, jobs):
    answers = JOBS if jobs else {}
    project = bake(framework=framework, database=database, deployment="paas", **answers)
    lines = (project / "Procfile").read_text(encoding="utf-8").splitlines()
    expected = ["web: gunicorn -c gunicorn.conf.py"]
    if jobs:
        expected.append("worker: python -m my_service.jobs")
    if database != "none":
        expected.append("release: alembic upgrade head")
    assert lines == expected


# ---------------------------------------------------------------- every target


@pytest.mark.parametrize("deployment", ["vm", "docker-compose", "kubernetes", "paas"])
def test_deployment_doc_is_written_for_the_target(bake, deployment):
    database = "postgresql"
    project = bake(deployment=deployment, database=database)
    doc = (project / "docs" / "deployment.md").read_text(encoding="utf-8")
    must = {
        "vm": ["useradd", "venv", "alembic upgrade head", "certbot", "systemctl enable --now",
               "journalctl", "systemctl reload", "ufw allow 443/tcp", "ufw limit 22/tcp",
               "fail2ban-client status", "unattended-upgrades", "MaxRetentionSec",
               "## Backups and restore", "enable --now my-service-backup.timer",
               "-m my_service.db.backup restore"],
        "docker-compose": ["docker compose up --build", "migrate", ".env", "hadolint",
                           "## Backups and restore", "docker compose run --rm backup",
                           "pg_restore --clean"],
        "kubernetes": ["kubectl apply -k", "secrets.env", "kubectl kustomize", "Job",
                       "NetworkPolicy", "SECRETS_DIR", "To rotate a secret", "ingress-nginx",
                       "## Backups and restore", "--from=cronjob/my-service-backup",
                       "my-service-backups"],
        "paas": ["Procfile", "Railway", "Render", "Heroku", "release: alembic upgrade head",
                 "METRICS_TOKEN", "## Backups and restore", "pg:backups:schedule"],
    }  # fmt: skip
    for needle in must[deployment]:
        assert needle in doc, needle
    others = {"vm": "systemctl", "docker-compose": "docker compose", "kubernetes": "kubectl",
              "paas": "Procfile"}  # fmt: skip
    for target, word in others.items():
        if target != deployment:
            assert word not in doc, (target, word)


def shipped_proxy_settings(project: Path, deployment: str) -> dict[str, str]:
    """TRUSTED_PROXIES and FORWARDED_HOPS as the target's own files give them to the service
    (the systemd unit of `vm` sets none: the defaults apply)."""
    if deployment == "docker-compose":
        compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
        return {k: str(v) for k, v in compose["x-app"]["environment"].items()}
    if deployment == "kubernetes":
        base = project / "deploy" / "kubernetes" / "base" / "kustomization.yaml"
        literals = yaml.safe_load(base.read_text(encoding="utf-8"))["configMapGenerator"][0]
        return dict(entry.split("=", 1) for entry in literals["literals"])
    if deployment == "paas":
        doc = (project / "docs" / "deployment.md").read_text(encoding="utf-8")
        return dict(re.findall(r"^\| `([A-Z_]+)` \| `([^`]+)`", doc, flags=re.MULTILINE))
    return {"TRUSTED_PROXIES": "127.0.0.1,::1", "FORWARDED_HOPS": "1"}


@pytest.mark.parametrize("deployment", ["vm", "docker-compose", "kubernetes", "paas"])
def test_shipped_proxy_settings_let_no_client_in_the_trusted_range_pick_its_address(
    bake, deployment
):
    """A client inside the trusted range rotates the entry it writes left of its own; the
    address the service keys the rate limit on stays the same (the baked project's
    tests/test_client_address.py shows the 429 on the running app)."""
    project = bake(deployment=deployment, database="none")
    settings = shipped_proxy_settings(project, deployment)
    module = project / "src" / "my_service" / "core" / "client_address.py"
    spec = importlib.util.spec_from_file_location("client_address", module)
    client_address = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client_address)
    proxies = settings["TRUSTED_PROXIES"].split(",")
    resolver = client_address.ClientAddress(proxies, int(settings["FORWARDED_HOPS"]))
    for entry in proxies:
        network = ipaddress.ip_network(entry, strict=False)
        proxy = network[0] if network.num_addresses == 1 else network[1]
        inside = network[-1] if network.num_addresses == 1 else network[2]
        forged = ["203.0.113.1", "2001:db8::1", "not-an-ip", "x" * 300, str(network[-1])]
        seen = {resolver.resolve(str(proxy), f"{value}, {inside}") for value in forged}
        assert seen == {str(inside)}, (deployment, entry, seen)


@pytest.mark.parametrize("deployment", ["vm", "docker-compose", "kubernetes", "paas"])
def test_metrics_token_is_required_only_where_no_proxy_guards_metrics(bake, deployment):
    # On a PaaS nothing the project controls stands in front of the service; elsewhere nginx
    # or the ingress denies /metrics and /health (tests/live/test_vm.py, the kustomize test).
    project = bake(deployment=deployment, database="none")
    config = (project / "src" / "my_service" / "config.py").read_text(encoding="utf-8")
    required = deployment == "paas"
    assert f"\nMETRICS_TOKEN_REQUIRED = {required}\n" in config


@pytest.mark.parametrize("deployment", ["vm", "docker-compose"])
def test_nginx_passes_the_credential_headers_untouched(bake, deployment):
    # nginx passes every client header upstream unless told otherwise; nothing here may clear
    # or replace Authorization or X-API-Key (tests/live/test_vm.py reads an API route through
    # the site with a key).
    project = bake(deployment=deployment, database="none")
    name = f"{SERVICE}.conf" if deployment == "vm" else "nginx.conf"
    folder = "nginx" if deployment == "vm" else "compose"
    site = (project / "deploy" / folder / name).read_text(encoding="utf-8").lower()
    assert "proxy_pass_request_headers off" not in site
    for header in ("authorization", "x-api-key"):
        assert f"proxy_set_header {header}" not in site

"""The vm target end to end: the generated nginx site in front of the generated service.

Real nginx (Debian's, with its own prefix and a dummy certificate) on loopback ports, gunicorn
running the baked project on a real PostgreSQL server, both frameworks. Through nginx:
readiness answers, nginx's request ID reaches the service's log, the security headers are
there, a burst over the limit gets 429, and a `kill -HUP` of gunicorn under traffic drops
no request. And what the security review asked (issue 21): an unknown Host gets no answer, no
path redirects to another host, only the liveness probe skips the rate limit, and readiness,
the detailed health and the metrics answer this host only, whatever the spelling of the path.

Clients speak to nginx as a visitor of the site would: its name in the TLS handshake (SNI) and
in the Host header. "Outside" is a client whose address is 127.0.0.2, still on loopback.
"""

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers.credentials import API_KEY
from tests.helpers.deployment_tools import SERVICE, dummy_certificate, fail2ban_regex, system_tool
from tests.helpers.drills import worker_pids
from tests.helpers.running_service import free_port, install, start

DOMAIN = "api.example.com"
OUTSIDE = "127.0.0.2"
SECURITY_HEADERS = (
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
)


class SiteTransport(httpx.HTTPTransport):
    """Connects to loopback, but names the site in the TLS handshake as a browser would."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["sni_hostname"] = DOMAIN
        return super().handle_request(request)


def site_client(base: str, *, local_address: str | None = None, **kwargs) -> httpx.Client:
    transport = SiteTransport(verify=False, local_address=local_address)
    return httpx.Client(base_url=base, transport=transport, headers={"Host": DOMAIN}, **kwargs)


def raw_request(
    port: int,
    path: str,
    *,
    host: str = DOMAIN,
    sni: str | None = DOMAIN,
    tls: bool = True,
    source: str = OUTSIDE,
) -> tuple[int, str] | None:
    """The status and head nginx answers to a request sent byte for byte as written (no client
    library normalises the path), or None when nginx closes the connection unanswered.
    ssl.SSLError when it refuses the handshake."""
    with socket.create_connection(("127.0.0.1", port), 10, source_address=(source, 0)) as sock:
        conn: socket.socket = sock
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = context.wrap_socket(sock, server_hostname=sni)
        # With the API key: a 200 from an API route shows nginx passed it on untouched.
        head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {API_KEY}\r\n"
        conn.sendall(f"{head}Connection: close\r\n\r\n".encode())
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except (ssl.SSLEOFError, ConnectionResetError):  # closed without a TLS goodbye
            pass
    if not data:
        return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return int(head.split(" ", 2)[1]), head


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the server exited\n{log.read_text(errors='replace')}")
        try:
            with site_client(url, timeout=1) as client:
                client.get("/health/live")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer in {seconds} s\n{log.read_text(errors='replace')}")


def json_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            lines.append(record)
    return lines


def loopback_site(site: str, *, tls_port: int, http_port: int, app_port: int, work: Path) -> str:
    """The generated site with loopback ports, the dummy certificate and logs in `work`."""
    certs = dummy_certificate(work / "certs")
    replacements = {
        "listen 443 ssl http2": f"listen 127.0.0.1:{tls_port} ssl http2",
        "listen 80": f"listen 127.0.0.1:{http_port}",
        "127.0.0.1:8000 max_fails=0": f"127.0.0.1:{app_port} max_fails=0",
        "/etc/letsencrypt/live/api.example.com/": f"{certs}/",
        "/var/log/nginx/": f"{work}/",
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    return "\n".join(line for line in site.splitlines() if "listen [::]" not in line) + "\n"


@pytest.fixture(params=["fastapi", "flask"])
def stack(request, bake, uv, postgresql, tmp_path):
    """gunicorn running the baked vm project on PostgreSQL, and nginx in front of it."""
    framework = request.param
    project = bake(framework=framework, deployment="vm", database="postgresql")
    install(project, uv)
    tls_port, http_port = free_port(), free_port()
    env = {
        "LOG_FORMAT": "json",
        "CORS_ORIGINS": "https://api.example.com",
        "DATABASE_URL": postgresql.create_database(f"vm_{framework}"),
        # nginx's limit is what this test measures.
        "RATE_LIMIT": "",
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    alembic = project / ".venv" / "bin" / "alembic"
    subprocess.run(
        [alembic, "upgrade", "head"], cwd=project, env={**os.environ, **env}, check=True
    )
    service = start(project, env=env, workers=2, log_dir=tmp_path)
    nginx = None
    try:
        work = tmp_path / "nginx"
        work.mkdir()
        site = (project / "deploy" / "nginx" / f"{SERVICE}.conf").read_text(encoding="utf-8")
        (work / "site.conf").write_text(
            loopback_site(
                site, tls_port=tls_port, http_port=http_port, app_port=service.port, work=work
            ),
            encoding="utf-8",
        )
        # Workers run as the invoking user (root on CI) so they can use the test's folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (work / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {work}/nginx.pid;\n"
            f"error_log {work}/error.log warn;\nevents {{}}\nhttp {{\n"
            f"    client_body_temp_path {work}/body;\n    proxy_temp_path {work}/proxy;\n"
            f"    fastcgi_temp_path {work}/fastcgi;\n    uwsgi_temp_path {work}/uwsgi;\n"
            f"    scgi_temp_path {work}/scgi;\n    include {work}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        nginx_log = work / "nginx.out"
        with nginx_log.open("wb") as out:
            nginx = subprocess.Popen(
                [system_tool("nginx"), "-p", str(work), "-c", str(work / "nginx.conf")],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(f"https://127.0.0.1:{tls_port}", nginx, nginx_log)
        yield {
            "tls_port": tls_port,
            "http_port": http_port,
            "base": f"https://127.0.0.1:{tls_port}",
            "http": f"http://127.0.0.1:{http_port}",
            "service": service,
            "access_log": work / f"{SERVICE}.access.log",
            "project": project,
            "work": work,
        }
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=30)
        service.stop()


def test_nginx_in_front_of_the_service(stack):
    with site_client(stack["base"], timeout=10) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        for header in SECURITY_HEADERS:
            assert header in ready.headers, header
        assert ready.headers["server"] == "nginx"  # no version

        # nginx made the request ID; the service answered and logged with it. (Health probes
        # are logged at debug level only, so another path.)
        made = client.get("/status")
        assert made.status_code == 200, made.text
        request_id = made.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
        # One the client sends is kept all the way.
        sent = client.get("/status", headers={"X-Request-ID": "client-chosen.id_1"})
        assert sent.headers["x-request-id"] == "client-chosen.id_1"

    site = {"Host": DOMAIN}
    redirect = httpx.get(f"{stack['http']}/status", headers=site, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["location"].startswith("https://")
    challenge = httpx.get(
        f"{stack['http']}/.well-known/acme-challenge/token", headers=site, timeout=10
    )
    assert challenge.status_code == 404  # served from the webroot, not redirected

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        service = [r for r in stack["service"].records() if r.get("request_id") == request_id]
        access = [r for r in json_lines(stack["access_log"]) if r.get("request_id") == request_id]
        if service and access:
            break
        time.sleep(0.2)
    assert any(r.get("event") == "request" for r in service), stack["service"].lines()[-20:]
    assert access[0]["status"] == 200 and access[0]["uri"] == "/status"


def test_a_burst_over_the_limit_gets_429_but_health_is_exempt(stack):
    with (
        site_client(stack["base"], timeout=10) as client,
        ThreadPoolExecutor(max_workers=16) as pool,
    ):
        limited = list(pool.map(lambda _: client.get("/status").status_code, range(150)))
        health = list(pool.map(lambda _: client.get("/health/live").status_code, range(150)))
        # The probe's exact path only: anything else that begins with /health is limited.
        prefixed = list(pool.map(lambda _: client.get("/health/nope").status_code, range(150)))
    assert limited.count(429) > 0, limited
    assert limited.count(200) > 0, limited
    assert set(limited) <= {200, 429}, limited
    assert set(health) == {200}, health
    assert prefixed.count(429) > 0 and set(prefixed) <= {404, 429}, prefixed

    # The generated Fail2Ban filter, on the lines nginx just wrote: every 429 counts against
    # the client, no 200 or 404 does.
    deadline = time.monotonic() + 10
    while len(records := json_lines(stack["access_log"])) < 450 and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = stack["access_log"].read_text(encoding="utf-8").splitlines()
    by_status = {
        status: [ln for ln in lines if f'"status":{status},' in ln] for status in (200, 404, 429)
    }
    assert len(by_status[429]) == limited.count(429) + prefixed.count(429), len(records)
    filter_file = stack["project"] / "deploy" / "fail2ban" / "filter.d" / f"{SERVICE}.conf"
    work = stack["work"] / "fail2ban"
    flood = by_status[429]
    assert fail2ban_regex(flood, filter_file, work) == (len(flood), len(flood))
    ordinary = by_status[200] + by_status[404]
    assert ordinary and fail2ban_regex(ordinary, filter_file, work) == (len(ordinary), 0)


def test_an_unknown_host_gets_no_answer(stack):
    tls, http = stack["tls_port"], stack["http_port"]
    # The controls: the site's own name is answered on both ports.
    assert raw_request(tls, "/status")[0] == 200
    assert raw_request(http, "/status", tls=False)[0] == 301
    # Another name, or none, in the handshake: refused before any request.
    for sni in ("evil.example", None):
        with pytest.raises(ssl.SSLError):
            raw_request(tls, "/status", sni=sni)
    # The site's name in the handshake but another in the Host header; plain HTTP likewise.
    assert raw_request(tls, "/api/v1/items/", host="evil.example") is None
    assert raw_request(http, "/api/v1/items/", host="evil.example", tls=False) is None


def test_no_path_redirects_to_another_host(stack):
    tls = stack["tls_port"]
    assert raw_request(tls, "/api/v1/items")[0] == 200
    for path in ("/api/v1/items/", "/status/", "/api//v1/items"):
        status, head = raw_request(tls, path)
        assert status == 404, head
        assert "\r\nlocation:" not in head.lower(), head


def test_operational_paths_answer_only_this_host(stack):
    tls = stack["tls_port"]
    assert raw_request(tls, "/health/live")[0] == 200
    # The review's bypasses, and the same paths spelt other ways: nginx matches the decoded,
    # normalised path, the one the service routes by.
    for path in (
        "/metrics", "/health", "/health/ready", "//metrics", "/%6detrics", "/health/../metrics",
        "/health/live/../ready", "/health/%72eady", "/./health",
    ):  # fmt: skip
        status, head = raw_request(tls, path)
        assert status == 403, (path, head)
    with site_client(stack["base"], local_address="127.0.0.1", timeout=10) as inside:
        assert inside.get("/health/ready").status_code == 200
        assert inside.get("/health").json()["version"]
        assert "http_requests_total" in inside.get("/metrics").text


def test_reload_under_traffic_drops_no_request(stack):
    """Three HUPs, each once the workers of the one before answer, under steady traffic.

    Half the traffic is POST, which nginx never sends twice, so only the service itself can
    keep those from failing. They go to /health/ready, which this host reaches without a rate
    limit, where the service answers a POST with 405.
    """
    service = stack["service"]
    statuses: list[tuple[str, int | str]] = []
    done = threading.Event()

    def traffic(method: str) -> None:
        with site_client(stack["base"], timeout=30) as client:
            while not done.is_set():
                try:
                    status: int | str = client.request(method, "/health/ready").status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                statuses.append((method, status))

    def replaced(old: set[int], seconds: float = 60) -> set[int]:
        """The new workers, once none of `old` is left and 20 more requests were answered."""
        deadline = time.monotonic() + seconds
        current = set(worker_pids(service))
        while not current or current & old:
            if time.monotonic() > deadline:
                pytest.fail(f"the workers {old} were not replaced in {seconds} s")
            time.sleep(0.05)
            current = set(worker_pids(service))
        answered = len(statuses)
        while len(statuses) < answered + 20:
            if time.monotonic() > deadline:
                pytest.fail(f"the new workers {current} answered nothing in {seconds} s")
            time.sleep(0.05)
        return current

    threads = [threading.Thread(target=traffic, args=(m,)) for m in ("GET", "POST") * 2]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        workers = set(worker_pids(service))
        for _ in range(3):
            service.send_signal(signal.SIGHUP)
            workers = replaced(workers)
        time.sleep(1)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=40)

    assert service.proc.poll() is None, "gunicorn exited on HUP"
    counts = Counter(statuses)
    assert counts[("GET", 200)] > 50 and counts[("POST", 405)] > 50, counts
    assert set(counts) == {("GET", 200), ("POST", 405)}, counts
    print(f"\nreload under traffic: 3 HUPs, {dict(counts)}, nothing else")

"""Helpers shared by the deployment tests: run the programs that read deployment files."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

# The dash form of the default project_slug: names the unit, the site, the Kubernetes objects.
SERVICE = "my-service"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def system_tool(name: str) -> str:
    """A Debian package's program (installed by .ci/run), also found in sbin directories."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is not installed: .ci/run installs it with apt-get")
    return path


def dummy_certificate(directory: Path) -> Path:
    """A self-signed pair named as certbot names them, for nginx to load."""
    directory.mkdir(parents=True, exist_ok=True)
    result = run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost",
        "-keyout", str(directory / "privkey.pem"),
        "-out", str(directory / "fullchain.pem"),
    )  # fmt: skip
    assert result.returncode == 0, output(result)
    return directory


def nginx_test(site: str, work: Path, *, stock: bool = False) -> subprocess.CompletedProcess[str]:
    """`nginx -t` with the site included in an http block, under a prefix of its own.

    stock=True wraps it in the distribution's own nginx.conf instead of a minimal one, to
    prove the site adds nothing that clashes with a default install's http settings.
    """
    (work / "logs").mkdir(parents=True, exist_ok=True)
    site_file = work / "site.conf"
    site_file.write_text(site.replace("/var/log/nginx/", f"{work}/logs/"), encoding="utf-8")
    if stock:
        conf = Path("/etc/nginx/nginx.conf").read_text(encoding="utf-8")
        conf = re.sub(r"^\s*include /etc/nginx/sites-enabled/\*;", f"include {site_file};", conf,
                      flags=re.M)  # fmt: skip
        conf = re.sub(r"^pid .*;", f"pid {work}/nginx.pid;", conf, flags=re.M)
        conf = conf.replace("/var/log/nginx/", f"{work}/logs/")
        assert str(site_file) in conf, "the stock nginx.conf no longer includes sites-enabled"
    else:
        conf = (
            f"pid {work}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
            f"http {{\n    access_log off;\n    include {site_file};\n}}\n"
        )
    (work / "nginx.conf").write_text(conf, encoding="utf-8")
    return run(
        system_tool("nginx"), "-t", "-q", "-p", str(work), "-c", str(work / "nginx.conf"),
        "-e", "stderr",
    )  # fmt: skip


def fail2ban_regex(lines: list[str], filter_file: Path, work: Path) -> tuple[int, int]:
    """(lines read, lines matched) by Debian's `fail2ban-regex` with the filter on these lines."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"fail2ban-{len(list(work.iterdir()))}.log"
    log.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    result = run(system_tool("fail2ban-regex"), str(log), str(filter_file))
    found = re.search(r"^Lines: (\d+) lines, \d+ ignored, (\d+) matched", result.stdout, re.M)
    assert result.returncode == 0 and found, output(result)
    return int(found.group(1)), int(found.group(2))

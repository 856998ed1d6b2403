"""A client cannot choose its own rate-limit key with X-Forwarded-For, under the proxy
settings this project's deployment target ships."""

import ipaddress
import re
from pathlib import Path

from {{ cookiecutter.project_slug }}.config import Settings

ROOT = Path(__file__).resolve().parent.parent
# The file that sets TRUSTED_PROXIES and FORWARDED_HOPS for this project's target.
SHIPPED_IN = ROOT / "{{ {"vm": "docs/deployment.md", "docker-compose": "compose.yaml", "kubernetes": "deploy/kubernetes/base/kustomization.yaml", "paas": "docs/deployment.md"}[cookiecutter.deployment] }}"
FORGED = ["203.0.113.1", "198.51.100.2", "2001:db8::3", "not-an-ip", "x" * 300, "10.9.9.9"]


def shipped(name: str) -> str | None:
    """The value the target's file gives `name` (`NAME: v`, `NAME=v` or a table row)."""
    text = SHIPPED_IN.read_text(encoding="utf-8")
    match = re.search(rf"{name}\W+([0-9:][0-9A-Fa-f.:/,]*)", text)
    return match.group(1) if match else None


def test_the_target_ships_proxy_settings_the_service_accepts():
    proxies = shipped("TRUSTED_PROXIES")
    assert proxies, f"{SHIPPED_IN.name} names no TRUSTED_PROXIES"
    settings = Settings(trusted_proxies=proxies, forwarded_hops=shipped("FORWARDED_HOPS") or 1)
    for entry in settings.trusted_proxies:
        ipaddress.ip_network(entry, strict=False)


def test_a_client_inside_the_trusted_network_cannot_dodge_the_limit(make_client, logs):
    proxies = shipped("TRUSTED_PROXIES") or ""
    hops = int(shipped("FORWARDED_HOPS") or Settings.model_fields["forwarded_hops"].default)
    network = ipaddress.ip_network(proxies.split(",")[0], strict=False)
    # The proxy, and a client in the same network (a pod, a LAN user, a local user) that
    # goes through it; for a single address they are the same host.
    if network.num_addresses == 1:
        proxy = inside = network[0]
    else:
        proxy, inside = network[1], network[2]
    client = make_client(
        rate_limit="3/hour", peer=str(proxy), trusted_proxies=proxies, forwarded_hops=hops
    )
    logs()
    statuses = []
    for forged in FORGED:
        # What reaches the service: the client's own claim, then what each proxy appended.
        chain = [forged, str(inside), *[str(proxy)] * (hops - 1)]
        response = client.get("/status", headers={"X-Forwarded-For": ", ".join(chain)})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429, 429, 429]
    clients = {line["client"] for line in logs() if line.get("event") == "request"}
    assert clients == {str(inside)}


def test_ipv6_clients_share_the_limit_of_their_64(make_client):
    # Without credentials: a principal is counted as itself, wherever it calls from.
    client = make_client(rate_limit="2/hour", trusted_proxies=["127.0.0.1"], credentials={})
    statuses = [
        client.get("/status", headers={"X-Forwarded-For": f"2001:db8:1:2::{n:x}"}).status_code
        for n in range(1, 4)
    ]
    assert statuses == [200, 200, 429]
    other = client.get("/status", headers={"X-Forwarded-For": "2001:db8:1:3::1"})
    assert other.status_code == 200


def test_ports_are_stripped_in_both_frameworks(make_client, logs):
    client = make_client(trusted_proxies=["127.0.0.1"])
    logs()
    client.get("/status", headers={"X-Forwarded-For": "203.0.113.9:4711"})
    client.get("/status", headers={"X-Forwarded-For": "[2001:db8::9]:4711"})
    clients = [line["client"] for line in logs() if line.get("event") == "request"]
    assert clients == ["203.0.113.9", "2001:db8::9"]

"""The alert rules, their scrape configurations, the dashboard and the runbook, as baked.

promtool checks the rules and runs their unit tests (each alert fires on a failing synthetic
service and stays quiet on a healthy one) and checks the vm and compose scrape configuration;
kustomize builds the Kubernetes monitoring objects, whose PrometheusRule holds the same rules
and whose PodMonitors name the jobs the rules select. The dashboard is valid JSON whose
queries, like the rules', read only series the service exports (tests/helpers/metric_names.py,
the families docs/contract.md names, which the live scrape test finds).
"""

import json
import re

import pytest
import yaml

from tests.conftest import find_tool
from tests.helpers import metric_names
from tests.helpers.deployment_tools import SERVICE, output, run, system_tool

COMBOS = [
    # deployment, database, use_redis, background_jobs
    ("vm", "postgresql", True, True),
    ("docker-compose", "none", False, False),
    ("kubernetes", "mysql", True, True),
    ("kubernetes", "none", True, False),
    ("paas", "postgresql", False, False),
]
ALERTS = {
    "ServiceDown",
    "HighErrorRate",
    "LatencyOverObjective",
    "ReadinessFailing",
    "RateLimitRejections",
}
# A series name in PromQL: followed by its label selector (every query here has one).
SERIES = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def families(exprs):
    found = set()
    for expr in exprs:
        for name in SERIES.findall(expr):
            found.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return found


def exported(database, use_redis, jobs):
    names = set(metric_names.SERVICE) | set(metric_names.PROCESS) | {"up"}
    if database == "none":
        names = {n for n in names if not n.startswith("db_pool_")}
    if not use_redis:
        names = {n for n in names if not n.startswith("redis_pool_")}
    if jobs:
        names |= set(metric_names.JOBS)
    return names


@pytest.mark.parametrize(("deployment", "database", "use_redis", "jobs"), COMBOS)
def test_rules_scrape_config_dashboard_and_runbook(bake, deployment, database, use_redis, jobs):
    project = bake(
        framework="flask",
        database=database,
        use_redis=use_redis,
        background_jobs=jobs,
        deployment=deployment,
    )
    prometheus = project / "deploy" / "prometheus"
    promtool = system_tool("promtool")
    for command in (["check", "rules", "alerts.yaml"], ["test", "rules", "alerts.test.yaml"]):
        done = run(promtool, *command, cwd=prometheus)
        assert done.returncode == 0, output(done)

    rules = yaml.safe_load((prometheus / "alerts.yaml").read_text(encoding="utf-8"))
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    expected = set(ALERTS)
    if database != "none":
        expected.add("DatabasePoolExhausted")
    if jobs:
        expected |= {"JobDeadLettersGrowing", "JobFailureRate"}
    assert set(alerts) == expected
    # Every alert is tested both ways: named in the failing case and in the healthy one.
    tests = yaml.safe_load((prometheus / "alerts.test.yaml").read_text(encoding="utf-8"))
    failing, healthy = tests["tests"][0], tests["tests"][1]
    assert {t["alertname"] for t in failing["alert_rule_test"] if t["exp_alerts"]} == expected
    assert {t["alertname"] for t in healthy["alert_rule_test"] if not t["exp_alerts"]} == expected
    jobs_selected = {m for r in alerts.values() for m in re.findall(r'job="([^"]+)"', r["expr"])}
    assert jobs_selected == {SERVICE, f"{SERVICE}-worker"} if jobs else {SERVICE}
    known = exported(database, use_redis, jobs)
    assert families(r["expr"] for r in alerts.values()) <= known

    runbook = (project / "docs" / "runbook.md").read_text(encoding="utf-8")
    for name, rule in alerts.items():
        assert f"\n## {name}\n" in runbook, name
        assert rule["annotations"]["runbook"] == f"docs/runbook.md#{name.lower()}"
    assert not re.search(r"\n{3,}", runbook)

    scrape = prometheus / "prometheus.yml"
    assert scrape.exists() == (deployment in {"vm", "docker-compose"})
    if scrape.exists():
        done = run(promtool, "check", "config", "prometheus.yml", cwd=prometheus)
        assert done.returncode == 0, output(done)
        config = yaml.safe_load(scrape.read_text(encoding="utf-8"))
        assert {job["job_name"] for job in config["scrape_configs"]} == jobs_selected

    monitoring = project / "deploy" / "kubernetes" / "monitoring"
    assert monitoring.exists() == (deployment == "kubernetes")
    if monitoring.exists():
        built = run(find_tool("kubectl"), "kustomize", str(monitoring))
        assert built.returncode == 0, output(built)
        objects = list(yaml.safe_load_all(built.stdout))
        (rule,) = [o for o in objects if o["kind"] == "PrometheusRule"]
        assert rule["spec"] == rules
        monitors = [o for o in objects if o["kind"] == "PodMonitor"]
        named = {
            relabel["replacement"]
            for monitor in monitors
            for endpoint in monitor["spec"]["podMetricsEndpoints"]
            for relabel in endpoint["relabelings"]
            if relabel["targetLabel"] == "job"
        }
        assert named == jobs_selected

    dashboard = json.loads((project / "deploy" / "grafana" / "dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = families(exprs)
    assert used <= known
    # Traffic, errors, latency, saturation, readiness, and the pools and jobs chosen.
    assert {
        "http_requests_total",
        "http_request_duration_seconds",
        "http_requests_in_flight",
        "readiness_check_up",
    } <= used
    assert ("db_pool_checked_out_connections" in used) == (database != "none")
    assert ("redis_pool_in_use_connections" in used) == use_redis
    assert ("jobs_dead_letters" in used) == jobs
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))

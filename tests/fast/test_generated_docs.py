"""The generated README and answers file are written for the answers given."""

import pytest
import yaml

from tests.helpers.template import public_options


@pytest.mark.parametrize(
    "answers",
    [
        {"database": "postgresql", "use_redis": True, "deployment": "kubernetes"},
        {"database": "none", "use_redis": False, "deployment": "paas", "framework": "flask"},
        {"database": "sqlite", "use_redis": False, "deployment": "vm"},
        {"database": "mysql", "use_redis": True, "deployment": "docker-compose"},
        {"database": "postgresql", "use_redis": True, "background_jobs": True, "deployment": "vm"},
        {"database": "none", "use_redis": True, "background_jobs": True, "deployment": "paas"},
    ],
    ids=lambda a: "-".join(str(v) for v in a.values()),
)
def test_readme_matches_the_answers(bake, answers):
    project = bake(**answers)
    readme = (project / "README.md").read_text(encoding="utf-8")
    with_db = answers["database"] != "none"

    for path in (
        "/health/live",
        "/health/ready",
        "/health`",
        "/status",
        "/metrics",
        "/api/routes",
    ):
        assert path in readme, path
    assert ("/api/v1/items" in readme) == with_db
    assert ("make migrate" in readme) == with_db
    assert ("`DATABASE_URL`" in readme) == with_db
    assert ("`REDIS_URL`" in readme) == answers["use_redis"]
    deploy = readme.split("## Deploy it")[1].split("##")[0]
    assert "docs/deployment.md" in deploy
    marker = {
        "vm": "systemd",
        "docker-compose": "docker compose up",
        "kubernetes": "kubectl apply -k",
        "paas": "Procfile",
    }
    assert marker[answers["deployment"]] in deploy
    assert "cruft update" in readme
    jobs = answers.get("background_jobs", False)
    assert ("## Background jobs" in readme) == jobs
    assert ("`JOBS_SHUTDOWN_GRACE`" in readme) == jobs
    guide = (project / "docs" / "deployment.md").read_text(encoding="utf-8")
    # How to run, scale and watch the worker, and reach its dead letters, on this target.
    assert ("## The background worker" in guide) == jobs
    assert ("my_service.jobs.dead_letters list" in guide) == jobs


def test_answers_are_recorded_for_template_updates(bake):
    answers = {"project_name": 'Orders "API"', "framework": "flask", "use_redis": True}
    project = bake(**answers)
    recorded = yaml.safe_load((project / ".template-answers.yaml").read_text(encoding="utf-8"))
    context = recorded["default_context"]
    assert set(context) == set(public_options())
    assert context["project_name"] == 'Orders "API"'
    assert context["framework"] == "flask"
    assert context["use_redis"] is True

"""Bad answers are refused by the pre-generation hook: one line naming the field,
exit code 1, and nothing left on disk."""

import subprocess
import sys

import pytest

from tests.template import ROOT

BAD_ANSWERS = [
    ({"project_slug": "My-Service"}, "project_slug"),
    ({"project_slug": "9lives"}, "project_slug"),
    ({"project_slug": "class"}, "project_slug"),
    ({"project_slug": "match"}, "project_slug"),
    ({"project_slug": "logging"}, "project_slug"),
    ({"project_slug": "test"}, "project_slug"),
    ({"project_slug": "flask"}, "project_slug"),
    ({"project_slug": "fastapi"}, "project_slug"),
    ({"project_slug": "tests"}, "project_slug"),
    ({"project_name": "   ", "project_slug": "svc"}, "project_name"),
    ({"author_email": "not-an-email"}, "author_email"),
    ({"author_email": "a@b"}, "author_email"),
    ({"domain_name": "Not A Domain"}, "domain_name"),
    ({"domain_name": "-bad.example.com"}, "domain_name"),
    ({"version": "one"}, "version"),
    ({"database": "sqlite", "deployment": "kubernetes"}, "database"),
    ({"database": "sqlite", "deployment": "paas"}, "database"),
]


def run_cookiecutter(tmp_path, answers):
    args = [f"{k}={v}" for k, v in answers.items()]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(tmp_path),
            str(ROOT),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("answers", "field"), BAD_ANSWERS, ids=[str(a) for a, _ in BAD_ANSWERS])
def test_bad_answer_is_refused_cleanly(tmp_path, answers, field):
    result = run_cookiecutter(tmp_path, answers)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ERROR: {field}:"), errors[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_sqlite_refusal_suggests_postgresql(tmp_path):
    result = run_cookiecutter(tmp_path, {"database": "sqlite", "deployment": "kubernetes"})
    assert "database=postgresql" in result.stderr


@pytest.mark.parametrize(
    ("answers", "field"),
    [({"framework": "django"}, "framework"), ({"use_redis": "maybe"}, "use_redis")],
)
def test_value_outside_the_choices_is_refused(tmp_path, answers, field):
    result = run_cookiecutter(tmp_path, answers)
    assert result.returncode != 0
    assert field in result.stderr
    assert list(tmp_path.iterdir()) == []

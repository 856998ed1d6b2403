"""Bad answers are refused by the pre-generation hook: one line naming the field,
exit code 1, and nothing left on disk. Its check() is called directly for each case too,
and its table of refused combinations is held to the options and the bake matrix."""

import subprocess
import sys

import pytest

from tests.helpers.template import PRE_HOOK, ROOT, choices, defaults, is_refused, matrix

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
    ({"project_slug": "a" * 61}, "project_slug"),
    ({"project_name": "   ", "project_slug": "svc"}, "project_name"),
    ({"author_email": "not-an-email"}, "author_email"),
    ({"author_email": "a@b"}, "author_email"),
    ({"domain_name": "Not A Domain"}, "domain_name"),
    ({"domain_name": "-bad.example.com"}, "domain_name"),
    ({"version": "one"}, "version"),
    *((row["when"], row["field"]) for row in PRE_HOOK.REFUSALS),
]
# Answers the command line cannot carry (line breaks, a non-boolean use_redis) but a
# --config-file or a caller of cookiecutter() can.
IN_PROCESS_ONLY = [
    ({"project_name": "Two\nlines"}, "project_name"),
    ({"description": "one\rtwo"}, "description"),
    ({"author_name": "  "}, "author_name"),
    ({"author_name": "A\nB"}, "author_name"),
    ({"use_redis": "yes"}, "use_redis"),
    ({"background_jobs": "yes"}, "background_jobs"),
]


def rendered(**changes) -> dict:
    """The default answers as the hook receives them (project_slug rendered)."""
    return {**defaults(), "project_slug": "my_service", **changes}


def test_default_answers_pass():
    assert PRE_HOOK.check(rendered()) is None


@pytest.mark.parametrize(
    ("answers", "field"),
    BAD_ANSWERS + IN_PROCESS_ONLY,
    ids=[repr(a) for a, _ in BAD_ANSWERS + IN_PROCESS_ONLY],
)
def test_check_names_the_field(answers, field):
    problem = PRE_HOOK.check(rendered(**answers))
    assert problem is not None, answers
    assert problem.startswith(f"{field}: "), problem


@pytest.mark.parametrize("row", PRE_HOOK.REFUSALS, ids=lambda row: repr(row["when"]))
def test_each_refusal_names_real_answers(row):
    """A typo in the table would refuse nothing, silently."""
    assert row["field"] in row["when"]
    for key, value in row["when"].items():
        assert value in choices(key), (key, value)


@pytest.mark.parametrize("row", PRE_HOOK.REFUSALS, ids=lambda row: repr(row["when"]))
def test_each_refusal_names_every_answer_it_refuses(row):
    problem = PRE_HOOK.check(rendered(**row["when"]))
    assert problem is not None
    assert problem.startswith(f"{row['field']}: ")
    for key, value in row["when"].items():
        assert f"{key}={PRE_HOOK.shown(value)}" in problem, (key, problem)
    assert problem.endswith(row["reason"])


def test_bake_matrix_leaves_out_the_refused_combinations_only():
    baked = matrix()
    assert not any(is_refused(combo) for combo in baked)
    for row in PRE_HOOK.REFUSALS:
        assert is_refused(row["when"])
        assert not any(row["when"].items() <= combo.items() for combo in baked)
    # One answer of a refused pair is fine on its own.
    assert PRE_HOOK.check(rendered(database="sqlite", deployment="vm")) is None


def test_a_new_refusal_is_one_more_row():
    # A hypothetical answer, `search`, that would need Redis too.
    needs_redis = {
        "when": {"search": "yes", "use_redis": False},
        "field": "search",
        "reason": "the index is kept in Redis. Choose use_redis=true.",
    }
    table = [*PRE_HOOK.REFUSALS, needs_redis]

    assert PRE_HOOK.refusal(rendered(search="yes", use_redis=True), table) is None
    assert PRE_HOOK.refusal(rendered(search="yes", use_redis=False), table) == (
        "search: search=yes cannot be used with use_redis=false; "
        "the index is kept in Redis. Choose use_redis=true."
    )


def run_cookiecutter(tmp_path, answers):
    args = [f"{k}={PRE_HOOK.shown(v)}" for k, v in answers.items()]
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

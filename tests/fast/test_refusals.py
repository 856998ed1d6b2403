"""Bad answers are refused by the pre-generation hook: one line naming the field, then one
command that generates again with every other answer given, exit code 1, and nothing left on
disk. Its check() is called directly for each case too, and its table of refused
combinations is held to the options and the bake matrix."""

import os
import shlex
import subprocess
import sys

import pexpect
import pytest
import yaml

from tests.helpers.template import (
    CONFIG,
    PRE_HOOK,
    ROOT,
    choices,
    defaults,
    is_refused,
    matrix,
    public_options,
)

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


def test_generating_over_a_project_is_refused_and_changes_nothing(tmp_path):
    assert run_cookiecutter(tmp_path, {}).returncode == 0
    project = tmp_path / "my_service"
    (project / "src" / "my_service" / "orders.py").write_text("# the team's own work\n")
    (project / "README.md").write_text("edited\n")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))

    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-f", "-o", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "ERROR: my_service exists and is not empty" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert (project / "src" / "my_service" / "orders.py").read_text() == "# the team's own work\n"
    assert (project / "README.md").read_text() == "edited\n"


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


def test_rerun_command_gives_every_answer_with_the_refused_one_last():
    answers = {**rendered(project_name="Bob's API", database="sqlite"), "_template": "gh:o/t"}
    words = shlex.split(PRE_HOOK.rerun_command(answers, "database"))
    assert words[:3] == ["cookiecutter", "--no-input", "gh:o/t"]
    given = [word.split("=", 1) for word in words[3:]]
    assert given[-1] == ["database", "sqlite"]
    assert dict(given) == {k: PRE_HOOK.shown(v) for k, v in answers.items() if k[0] != "_"}


def test_rerun_command_derives_the_slug_again_when_the_name_is_refused():
    words = shlex.split(PRE_HOOK.rerun_command(rendered(project_name=" "), "project_name"))
    assert words[-1] == "project_name= "
    assert not [word for word in words if word.startswith("project_slug=")]


def test_refusal_after_interactive_answers_prints_a_command_that_reruns(tmp_path):
    """Thirteen answers typed at a terminal, the deployment refused with the database: the
    printed command, with the one answer changed, generates the project."""
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PWD": str(work), "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "200"}
    typed = {
        "project_name": "Orders API",
        "domain_name": "orders.example.com",
        "database": str(choices("database").index("sqlite") + 1),
        "deployment": str(choices("deployment").index("kubernetes") + 1),
        "ci": str(choices("ci").index("gitlab") + 1),
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "cookiecutter", str(ROOT)],
        cwd=str(work),
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    for key in public_options():
        prompt = CONFIG["__prompts__"][key]
        label = prompt["__prompt__"] if isinstance(prompt, dict) else prompt
        child.expect_exact(label)
        # A choice prompt lists its choices, then asks: answer after the last line of it.
        if isinstance(prompt, dict):
            child.expect_exact("Choose from")
        child.sendline(typed.get(key, ""))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    lines = child.before.replace("\r", "").splitlines()
    error = next(i for i, line in enumerate(lines) if line.startswith("ERROR: database:"))
    assert lines[error + 1] == "Change database in this command and run it again:"
    command = lines[error + 2]
    assert list(work.iterdir()) == []

    words = shlex.split(command)
    assert words[-1] == "database=sqlite"
    assert {"project_name=Orders API", "domain_name=orders.example.com", "ci=gitlab"} <= set(words)
    words[-1] = "database=postgresql"
    rerun = subprocess.run(
        [sys.executable, "-m", *words], cwd=work, env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    answers = yaml.safe_load((work / "orders_api" / ".template-answers.yaml").read_text())
    context = answers["default_context"]
    assert (context["database"], context["deployment"], context["ci"]) == (
        "postgresql",
        "kubernetes",
        "gitlab",
    )

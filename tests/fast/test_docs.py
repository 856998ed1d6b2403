"""The README's options table is kept in step with cookiecutter.json, and its quick start with
`.ci/run`."""

import re

from tests.helpers import metric_names
from tests.helpers.template import CONFIG, ROOT, public_options, quick_start


def _label(key):
    prompt = CONFIG["__prompts__"][key]
    return prompt["__prompt__"] if isinstance(prompt, dict) else prompt


def _fmt(value):
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def expected_rows():
    rows = []
    for key, value in public_options().items():
        if isinstance(value, list):
            default, kinds = _fmt(value[0]), ", ".join(_fmt(v) for v in value)
        elif isinstance(value, bool):
            default, kinds = _fmt(value), "`true`, `false`"
        elif "{{" in value:
            source = re.search(r"cookiecutter\.(\w+)", value).group(1)
            default, kinds = f"derived from `{source}`", "text"
        else:
            default, kinds = _fmt(value), "text"
        rows.append(f"| `{key}` | {_label(key)} | {default} | {kinds} |")
    return rows


def test_readme_options_table_matches_cookiecutter_json():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- options:start -->\n")[1].split("<!-- options:end -->")[0]
    assert table.splitlines()[2:] == expected_rows()


def test_every_question_and_choice_has_a_label():
    prompts = CONFIG["__prompts__"]
    for key, value in public_options().items():
        assert key in prompts, key
        if isinstance(value, list):
            assert set(prompts[key]) == {"__prompt__", *value}, key


def test_ci_runs_the_readme_test_command_verbatim():
    commands = quick_start()
    assert set(commands) == {
        "Generate a project with the default answers",
        "Run the template's tests",
    }
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands["Run the template's tests"] in ci_lines
    # Both start in a venv: a plain `python3 -m pip` is refused where python3 is externally
    # managed (PEP 668), see tests/live/test_quick_start.py.
    for command in commands.values():
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && "), command


def test_the_contract_names_every_exported_metric_family():
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    names = (*metric_names.SERVICE, *metric_names.JOBS)
    missing = [name for name in names if not re.search(rf"`{name}[`{{]", contract)]
    assert not missing

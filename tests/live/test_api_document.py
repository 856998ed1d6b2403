"""The API document is what the service does: a property-based fuzz of every operation it
declares, against the real service under gunicorn, for both frameworks, and the fresh
projects' committed documents are what their apps serve.

schemathesis reads /openapi.json from the running service and sends requests built from it
(valid ones, and invalid ones that must be refused); every answer must be a declared status,
in the declared content type, matching its declared schema, and never a server error.
"""

import os
import subprocess
from pathlib import Path

import pytest
import schemathesis
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.helpers import api_documents
from tests.helpers.credentials import HEADERS
from tests.helpers.running_service import SECRET, install, running
from tests.helpers.template import ROOT

# Outside production, where the document is served; no rate limit within reach of the fuzz.
ENV = {"ENVIRONMENT": "staging", "RATE_LIMIT": "1000000/hour", "LOG_LEVEL": "WARNING"}
# Examples per operation: enough to reach the bounds and the refusals, bounded so that a
# framework's run stays within about a minute.
EXAMPLES = 100
# Both frameworks ignore query parameters an operation does not declare, as most APIs do (and
# schemathesis would otherwise count each one a request to refuse).
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}})


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def service(request, tmp_path_factory, uv):
    output = tmp_path_factory.mktemp(f"document-{request.param}")
    answers = {"framework": request.param, "database": "sqlite", "auth": "api-key"}
    project = Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(output), extra_context=answers)
    )
    install(project, uv)
    env = {**ENV, "DATABASE_URL": f"sqlite:///{output / 'api.db'}"}
    subprocess.run(
        [uv, "run", "--no-sync", "alembic", "upgrade", "head"],
        cwd=project,
        env={**os.environ, "SECRET_KEY": SECRET, **env},
        check=True,
        capture_output=True,
    )
    with running(project, env=env, workers=2, log_dir=output) as started:
        yield started


def fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        try:
            case.call_and_validate(headers=HEADERS, timeout=10)
        except BaseException as failure:
            failure.add_note(case.as_curl_command(headers=HEADERS))
            raise

    check()


def describe(failure: BaseException) -> str:
    found = getattr(failure, "exceptions", None) or [failure]
    return "\n".join(f"{each}\n" + "\n".join(getattr(each, "__notes__", [])) for each in found)


def test_every_answer_is_declared(service):
    document = schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=CONFIG)
    failures = []
    for found in document.get_all_operations():
        operation = found.ok()
        for mode in GenerationMode:
            try:
                fuzz(operation, mode)
            except Unsatisfiable:
                # Nothing to get wrong: an operation without inputs has no invalid request.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{mode.value} {operation.label}: {describe(failure)}")
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_fresh_projects_commit_the_document_their_app_serves(framework, tmp_path):
    """The template's `_templates/openapi-<framework>.json`, rendered for each answer that
    changes the document, is what that bake serves (`python -m tests.helpers.api_documents`
    writes them)."""
    text, _ = api_documents.generate(framework, tmp_path)
    committed = api_documents.target(framework).read_text(encoding="utf-8")
    assert committed == text, f"run `python -m tests.helpers.api_documents {framework}`"

"""_templates/services.jinja is the one place an image or a backing service is written down."""

import re

import pytest

from tests.helpers.checks import rendered_images
from tests.helpers.template import (
    CATALOG,
    CONFIG,
    PROJECT_TEMPLATE,
    ROOT,
    catalog,
)

# Everything a project is rendered from.
TEMPLATE_FILES = [
    ROOT / "cookiecutter.json",
    *(
        path
        for folder in (PROJECT_TEMPLATE, ROOT / "hooks")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ),
]
# Both answers carry every backing service of the catalog between them.
FULL = [{"database": "postgresql", "use_redis": True}, {"database": "mysql", "use_redis": True}]


def naming(image: str, python_version: str) -> re.Pattern:
    """`image` as a template writes it: a tag built from the Python answer matches with
    anything (a Jinja expression) in place of the version."""
    return re.compile(re.escape(image).replace(re.escape(python_version), r"[^\n]*?"))


def test_each_image_is_named_in_one_template_file():
    version = CONFIG["python_version"][0]
    module = catalog({"python_version": version})
    images = {*module.images.values(), *(s["image"] for s in module.catalog.values())}
    texts = {path: path.read_text(encoding="utf-8") for path in TEMPLATE_FILES}
    for image in sorted(images):
        pattern = naming(image, version)
        named_in = [p.relative_to(ROOT) for p, text in texts.items() if pattern.search(text)]
        assert named_in == [CATALOG.relative_to(ROOT)], image


def test_full_answers_cover_the_catalog():
    chosen = {s["label"] for answers in FULL for s in catalog(answers).chosen}
    assert chosen == {s["label"] for s in catalog({}).catalog.values()}


@pytest.mark.parametrize("answers", FULL, ids=lambda a: a["database"])
def test_compose_and_ci_run_the_same_image_for_each_service(bake, answers):
    compose = rendered_images(bake(deployment="docker-compose", ci="github", **answers))
    gitlab = rendered_images(bake(deployment="docker-compose", ci="gitlab", **answers))
    for service in catalog(answers).chosen:
        image = compose["compose.yaml"][service["compose_name"]]
        assert compose[".github/workflows/ci.yml"][service["ci_name"]] == image, service["label"]
        assert gitlab[".gitlab/ci/test-services.yml"][service["ci_name"]] == image
        assert image == service["image"]

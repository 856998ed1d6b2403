"""Bake every combination and hold each rendered project to the template's standards."""

import stat

import pytest

from tests.helpers.checks import problems, rendered_images, ruff
from tests.helpers.template import (
    MANIFEST,
    MATRIX_KEYS,
    POST_HOOK,
    choices,
    combo_id,
    expected_images,
    manifest_expectations,
    matrix,
    render,
    rotating_keys,
    selected_sources,
)

MATRIX = matrix()


def test_matrix_covers_every_value_of_every_choice():
    for key in (*MATRIX_KEYS, *rotating_keys()):
        baked = {combo[key] for combo in MATRIX}
        assert baked == set(choices(key)), key


@pytest.mark.parametrize("answers", MATRIX, ids=[combo_id(a) for a in MATRIX])
def test_bake_is_clean(bake, answers):
    project = bake(**answers)

    assert problems(project) == []
    assert ruff(project) == []

    keep, prune = manifest_expectations(answers)
    assert sorted(p for p in keep if not (project / p).exists()) == []
    assert sorted(p for p in prune if (project / p).exists()) == []
    assert sorted(d for d in POST_HOOK.source_roots(MANIFEST) if (project / d).exists()) == []
    # Variant and selection sources (_variants/, _docs/) are template-only.
    assert sorted(p.name for p in project.iterdir() if p.name.startswith("_")) == []
    for target, source in selected_sources(answers).items():
        if target not in prune:
            assert (project / target).read_text(encoding="utf-8") == render(source, answers)
    # Compose, CI and the Dockerfile run exactly the images the catalog names.
    found = rendered_images(project)
    assert found == {k: v for k, v in expected_images(answers).items() if k in found}
    assert not (project / ".template-manifest.yaml").exists()
    assert (project / "src" / "my_service" / "app.py").is_file()
    env = (project / ".env").read_text(encoding="utf-8")
    assert "SECRET_KEY=" in env and "change-me" not in env
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600

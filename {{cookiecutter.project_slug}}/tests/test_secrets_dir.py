"""Settings read from files, as a mounted Kubernetes Secret gives them (SECRETS_DIR)."""

from collections.abc import Iterator

import pytest

from {{ cookiecutter.project_slug }}.config import get_settings

FROM_FILE = "f" * 40
FROM_ENVIRONMENT = "e" * 40


@pytest.fixture
def secrets_dir(monkeypatch, tmp_path) -> Iterator[None]:
    # As the kubelet writes a Secret's keys: one file each, upper case, no trailing newline.
    (tmp_path / "METRICS_TOKEN").write_text(FROM_FILE)
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_settings_are_read_from_the_files_in_secrets_dir(secrets_dir):
    assert get_settings().metrics_token.get_secret_value() == FROM_FILE


def test_the_environment_wins_over_secrets_dir(secrets_dir, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", FROM_ENVIRONMENT)
    assert get_settings().metrics_token.get_secret_value() == FROM_ENVIRONMENT


def test_a_missing_secrets_dir_is_refused(secrets_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "absent"))
    with pytest.raises(ValueError, match=r"SECRETS_DIR=.*absent is not a directory"):
        get_settings()

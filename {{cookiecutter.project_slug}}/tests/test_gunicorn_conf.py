"""gunicorn.conf.py: the settings and hooks gunicorn reads from it."""

import gc
import logging
import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.glogging import Logger  # type: ignore[import-untyped]

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
PACKAGE = "{{ cookiecutter.project_slug }}"


@pytest.fixture
def conf(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "500")
    return runpy.run_path(str(CONF))


@pytest.fixture
def worker_init(conf, monkeypatch):
    """post_worker_init, run on a stand-in for the access lines (it batches them, and would
    the tests' own); returns the stand-in. The hook freezes what the process holds: this test
    process's objects go back to the collector afterwards."""
    from {{ cookiecutter.project_slug }}.core import access_log

    lines = access_log.AccessLines()
    monkeypatch.setattr(access_log.AccessLines, "FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(access_log, "_access_lines", lines)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    conf["post_worker_init"](SimpleNamespace())
    yield lines
    gc.unfreeze()


def server():
    return SimpleNamespace(log=logging.getLogger("gunicorn.error"))


def test_settings_come_from_the_environment(conf):
    assert conf["wsgi_app"] == f"{PACKAGE}.app:create_app()"
    assert conf["workers"] == 3
    assert conf["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (500, 50)
    assert conf["control_socket_disable"] is True
    assert conf["accesslog"] is None


def test_gunicorn_builds_no_access_line_of_its_own(conf):
    logger_class = conf["logger_class"]
    assert issubclass(logger_class, Logger)
    # gunicorn's own access() would read the response and environ; this one touches nothing.
    logger_class.access(object.__new__(logger_class), None, None, None, None)


def test_gunicorn_logs_through_the_service_formatter(conf):
    formatter = conf["logconfig_dict"]["formatters"]["service"]
    assert formatter["()"] == f"{PACKAGE}.core.logs.formatter"
    assert conf["logconfig_dict"]["handlers"]["stdout"]["stream"] == "ext://sys.stdout"


def test_metrics_dir_is_made_when_unset_and_removed_on_exit(conf, monkeypatch):
    # Empty counts as unset; monkeypatch puts the original value back afterwards.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    conf["on_starting"](server())
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert path.is_dir()
    conf["on_exit"](server())
    assert not path.exists()


def test_given_metrics_dir_is_emptied_on_start(conf, monkeypatch, tmp_path):
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(stale.parent))
    conf["on_starting"](server())
    assert stale.parent.is_dir()
    assert not stale.exists()


def test_dead_workers_are_marked_in_the_metrics_dir(conf, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    live_gauge = tmp_path / "gauge_liveall_4242.db"
    live_gauge.write_bytes(b"")
    conf["child_exit"](server(), SimpleNamespace(pid=4242))
    assert not live_gauge.exists()


def test_worker_exit_runs_every_closer_even_after_a_failure(conf):
    closed = []

    def broken():
        raise RuntimeError("close failed")

    app = SimpleNamespace(extensions={"closers": [lambda: closed.append("a"), broken]})
    conf["worker_exit"](server(), SimpleNamespace(wsgi=app))
    assert closed == ["a"]


def test_worker_exit_leaves_apps_without_closers_alone(conf):
    assert conf["worker_exit"](server(), SimpleNamespace(wsgi=object())) is None


def test_a_worker_leaves_what_it_loaded_out_of_full_collections(worker_init):
    assert gc.get_freeze_count() > 0


def test_workers_batch_access_lines_and_write_the_last_ones_on_exit(conf, worker_init, capsys):
    lines = worker_init
    assert lines.batched
    entry = ("info", "GET", "/status", "/status", 200, 0.001, "127.0.0.1", "last-one", 0)
    lines.add((*entry, None, None))
    capsys.readouterr()
    conf["worker_exit"](server(), SimpleNamespace(wsgi=object()))
    assert '"request_id":"last-one"' in capsys.readouterr().out

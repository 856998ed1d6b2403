"""The example job of a project without a database: it records a piece of work once."""

import pytest

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.jobs import tasks

from .stub import drain


class FakeRedis:
    """SET with NX as Redis answers it; the real server is tested where REDIS_URL is given."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, key: str, value: str, nx: bool, ex: int) -> bool | None:
        assert nx and ex == tasks.DONE_TTL_SECONDS
        if key in self.values:
            return None
        self.values[key] = value
        return True


@pytest.fixture
def redis(monkeypatch) -> FakeRedis:
    fake = FakeRedis()
    monkeypatch.setattr(tasks, "client", lambda: fake)
    return fake


def test_the_job_records_the_work_once(redis, jobs_broker, capsys):
    token = request_id.bind("req-5")
    try:
        tasks.record_done.send("report-1")
        tasks.record_done.send("report-1")
    finally:
        request_id.unbind(token)
    capsys.readouterr()
    drain(jobs_broker)

    assert list(redis.values) == [tasks.done_key("report-1")]
    out = capsys.readouterr().out
    assert out.count('"event":"work_recorded"') == 1
    assert out.count('"event":"work_already_recorded"') == 1
    assert out.count('"request_id":"req-5"') >= 4

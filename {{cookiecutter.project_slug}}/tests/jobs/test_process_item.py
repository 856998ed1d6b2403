"""The example job: an item created through the API is processed once, after its commit."""
{% if cookiecutter.framework == "fastapi" %}
import asyncio
{%- endif %}
from collections.abc import Iterator

import pytest
from dramatiq import Message

from {{ cookiecutter.project_slug }}.config import DEFAULT_QUEUE
from {{ cookiecutter.project_slug }}.db.session import Database
from {{ cookiecutter.project_slug }}.items import jobs
from {{ cookiecutter.project_slug }}.items.jobs import mark_processed
from tests.settings import base_settings

from .stub import drain

ITEMS = "/api/v1/items"


@pytest.fixture
def database(client) -> Iterator[Database]:
    """The worker's database: the one the tests' app writes to (`client` makes its schema)."""
    database = Database(base_settings())
    jobs._database = database
    yield database
    jobs._database = None
{%- if cookiecutter.framework == "fastapi" %}
    asyncio.run(database.dispose())
{%- else %}
    database.dispose()
{%- endif %}


def test_creating_an_item_enqueues_the_job_and_the_job_sets_processed_at(
    client, database, jobs_broker
):
    response = client.post(ITEMS, json={"name": "Widget"}, headers={"X-Request-ID": "req-9"})
    assert response.status_code == 201
    item = response.json()
    assert item["processed_at"] is None
    (data,) = jobs_broker.queues[DEFAULT_QUEUE].queue
    message = Message.decode(data)
    assert (message.actor_name, message.args) == ("process_item", (item["id"],))
    # The request's id travels in the message, for the job's log lines.
    assert message.options["request_id"] == "req-9"

    drain(jobs_broker)

    processed = client.get(f"{ITEMS}/{item['id']}").json()
    assert processed["processed_at"] is not None
    assert processed["processed_at"] >= item["created_at"]


def test_the_job_is_idempotent(client, database):
    item = client.post(ITEMS, json={"name": "Once"}).json()
{%- if cookiecutter.framework == "fastapi" %}
    first = asyncio.run(mark_processed(Database(base_settings()), item["id"]))
    after_first = client.get(f"{ITEMS}/{item['id']}").json()
    second = asyncio.run(mark_processed(Database(base_settings()), item["id"]))
{%- else %}
    first = mark_processed(database, item["id"])
    after_first = client.get(f"{ITEMS}/{item['id']}").json()
    second = mark_processed(database, item["id"])
{%- endif %}
    assert (first, second) == (True, False)
    assert client.get(f"{ITEMS}/{item['id']}").json() == after_first


def test_a_job_for_a_deleted_item_succeeds_and_changes_nothing(
    client, database, jobs_broker, logs
):
    item = client.post(ITEMS, json={"name": "Gone"}).json()
    assert client.delete(f"{ITEMS}/{item['id']}").status_code == 204
    logs()
    drain(jobs_broker)
    assert jobs_broker.dead_letters == []
    events = [line["event"] for line in logs() if line.get("actor") == "process_item"]
    assert events == ["item_already_processed", "job_succeeded"]


def test_an_unreachable_queue_does_not_fail_the_request(client, monkeypatch, logs):
    def refuse(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(jobs.process_item, "send", refuse)
    logs()
    response = client.post(ITEMS, json={"name": "Stored anyway"})
    assert response.status_code == 201
    assert client.get(f"{ITEMS}/{response.json()['id']}").json()["processed_at"] is None
    assert "job_enqueue_failed" in [line["event"] for line in logs()]

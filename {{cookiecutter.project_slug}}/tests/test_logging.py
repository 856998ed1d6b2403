import json
import logging

import pytest
import structlog

from {{ cookiecutter.project_slug }}.core import request_id
from {{ cookiecutter.project_slug }}.core.logs import (
    configure_logging,
    formatter,
)


def access_lines(records):
    return [r for r in records if r.get("event") == "request"]


def test_one_access_line_per_request_with_every_field(client, logs):
    logs()
    client.get("/test/items/7", headers={"X-Request-ID": "req-7"})
    (line,) = access_lines(logs())
    assert line["method"] == "GET"
    assert line["route"] == "/test/items/{item_id}"
    assert line["path"] == "/test/items/7"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "req-7"
    assert line["client"] == "127.0.0.1"
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_probes_log_at_debug_only(client, logs):
    logs()
    client.get("/health/live")
    client.get("/metrics")
    assert access_lines(logs()) == []


def test_probes_are_logged_at_debug_level(make_client, logs):
    client = make_client(log_level="DEBUG")
    logs()
    client.get("/health/live")
    (line,) = access_lines(logs())
    assert line["level"] == "debug"


def test_slow_requests_are_warnings(make_client, logs):
    # Far apart, so a busy machine cannot make /status look slow or /test/slow fast.
    client = make_client(slow_request_ms=250)
    logs()
    client.get("/test/slow")
    client.get("/status")
    slow, fast = access_lines(logs())
    assert (slow["level"], slow["slow"]) == ("warning", True)
    assert fast["level"] == "info"
    assert "slow" not in fast


def test_hostile_values_cannot_break_or_forge_lines(client, capsys):
    capsys.readouterr()
    forged = '{"event": "request", "level": "info", "request_id": "forged"}'
    client.get("/test/%0A" + forged.replace(" ", "%20"), headers={"X-Request-ID": 'x"}{"y'})
    client.get("/test/boom")
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines()]
    assert all(r.get("request_id") != "forged" for r in records)
    assert any("\n" in r.get("path", "") for r in records)


def test_unicode_line_separators_from_clients_are_escaped(client, capsys):
    capsys.readouterr()
    client.get("/test/a%C2%85b%E2%80%A8c%E2%80%A9d")
    out = capsys.readouterr().out
    assert "\u2028" not in out and "\x85" not in out
    records = [json.loads(line) for line in out.splitlines()]
    assert any(r.get("path") == "/test/a\x85b\u2028c\u2029d" for r in records), records


def test_forwarded_for_is_believed_only_from_trusted_proxies(make_client, logs):
    # Two proxies in a row: the outer one saw the client, the inner one saw the outer one.
    trusted = make_client(trusted_proxies=["127.0.0.1"], forwarded_hops=2)
    logs()
    trusted.get("/status", headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.1"})
    assert access_lines(logs())[0]["client"] == "203.0.113.9"
    untrusted = make_client(trusted_proxies=["10.0.0.1"])
    logs()
    untrusted.get("/status", headers={"X-Forwarded-For": "203.0.113.9"})
    assert access_lines(logs())[0]["client"] == "127.0.0.1"


def test_standard_library_records_share_the_format(capsys):
    configure_logging("INFO", json_logs=True)
    token = request_id.bind("std-1")
    try:
        logging.getLogger("some.library").warning("disk %s", "full\nforged")
    finally:
        request_id.unbind(token)
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["event"] == "disk full\nforged"
    assert record["logger"] == "some.library"
    assert record["level"] == "warning"
    assert record["request_id"] == "std-1"


def test_records_below_the_level_are_dropped(capsys):
    configure_logging("WARNING", json_logs=True)
    structlog.get_logger().info("quiet")
    logging.getLogger("lib").info("quiet too")
    structlog.get_logger().error("loud")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert '"loud"' in lines[0]


@pytest.mark.parametrize("source", ["structlog", "stdlib"])
def test_console_format_escapes_newlines(capsys, source):
    configure_logging("INFO", json_logs=False)
    if source == "structlog":
        structlog.get_logger().info("hello", value="a\nb")
    else:
        logging.getLogger("lib").info("hello a\nb")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "a\\nb" in out


def test_exceptions_render_on_one_line(capsys):
    configure_logging("INFO", json_logs=True)
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logging.getLogger("lib").exception("failed")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "ValueError" in lines[0]


def test_unserialisable_values_still_give_json(capsys):
    configure_logging("INFO", json_logs=True)
    structlog.get_logger().info("odd", value=object(), lone="\ud800")
    record = json.loads(capsys.readouterr().out)
    assert record["event"] == "odd"
    assert record["value"].startswith("<object")


def test_gunicorn_formatter_is_the_json_formatter():
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Booting", (), None)
    assert json.loads(formatter().format(record))["event"] == "Booting"


def test_timestamps_are_iso_8601_utc_with_microseconds():
    from datetime import UTC, datetime

    from {{ cookiecutter.project_slug }}.core.logs import timestamp

    before = datetime.now(UTC)
    text = timestamp()
    parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((parsed - before).total_seconds()) < 1


def test_timestamps_of_a_given_instant_keep_every_microsecond():
    from {{ cookiecutter.project_slug }}.core.logs import timestamp

    # 2025-01-31T12:00:00.000007Z: leading zeros of the fraction must survive.
    assert timestamp(1_738_324_800_000_007_000) == "2025-01-31T12:00:00.000007Z"


ENTRY = (
    "warning",
    "GET",
    "/items/{item_id}",
    "/items/7\u2028",
    200,
    1.5,
    "10.0.0.9",
    "rid-1",
    0,
    "deploy-bot",
    None,
)


def test_a_traced_request_names_its_trace_on_the_access_line():
    from {{ cookiecutter.project_slug }}.core.access_log import (
        render_access,
    )

    line = json.loads(render_access((*ENTRY[:10], ("a" * 32, "b" * 16))))
    assert (line["trace_id"], line["span_id"]) == ("a" * 32, "b" * 16)
    assert "trace_id" not in json.loads(render_access(ENTRY))


def test_batched_access_lines_equal_the_immediate_ones_and_keep_their_order(capsys, monkeypatch):
    from {{ cookiecutter.project_slug }}.core.access_log import (
        AccessLines,
    )

    immediate = AccessLines()
    immediate.add(ENTRY)
    written = capsys.readouterr().out
    line = json.loads(written)
    assert line == {
        "method": "GET",
        "route": "/items/{item_id}",
        "path": "/items/7\u2028",
        "status": 200,
        "duration_ms": 1500.0,
        "client": "10.0.0.9",
        "principal": "deploy-bot",
        "slow": True,
        "event": "request",
        "level": "warning",
        "request_id": "rid-1",
        "timestamp": "1970-01-01T00:00:00.000000Z",
    }
    assert "\u2028" not in written

    monkeypatch.setattr(AccessLines, "FLUSH_SECONDS", 3600.0)  # only explicit flushes
    batched = AccessLines()
    batched.start_batching()
    for number in range(3):
        batched.add((*ENTRY[:7], f"rid-{number}", 0, *ENTRY[9:]))
    assert capsys.readouterr().out == ""  # queued, not written per request
    batched.flush()
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(text)["request_id"] for text in lines] == ["rid-0", "rid-1", "rid-2"]
    assert lines[1] + "\n" == written
    batched.flush()
    assert capsys.readouterr().out == ""


def test_batched_access_lines_are_written_without_being_asked(capsys, monkeypatch):
    import time

    from {{ cookiecutter.project_slug }}.core.access_log import (
        AccessLines,
    )

    monkeypatch.setattr(AccessLines, "FLUSH_SECONDS", 0.01)
    batched = AccessLines()
    batched.start_batching()
    assert batched.thread is None
    batched.add(ENTRY)  # outside an event loop: a thread is started to write it
    assert batched.thread is not None and batched.thread.daemon
    deadline = time.monotonic() + 5
    out = ""
    while not out and time.monotonic() < deadline:
        time.sleep(0.01)
        out += capsys.readouterr().out
    assert json.loads(out)["request_id"] == "rid-1"


def test_in_an_event_loop_batched_lines_are_written_on_its_next_turn(capsys, monkeypatch):
    import asyncio

    from {{ cookiecutter.project_slug }}.core.access_log import (
        AccessLines,
    )

    batched = AccessLines()
    batched.start_batching()

    async def answer_two_requests() -> tuple[str, str]:
        batched.add(ENTRY)
        batched.add((*ENTRY[:7], "rid-2", 0, *ENTRY[9:]))
        before = capsys.readouterr().out
        await asyncio.sleep(0)
        return before, capsys.readouterr().out

    before, after = asyncio.run(answer_two_requests())
    assert before == ""
    assert [json.loads(line)["request_id"] for line in after.splitlines()] == ["rid-1", "rid-2"]
    assert batched.thread is None  # the loop writes them all: no thread wakes up to look

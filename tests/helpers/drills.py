"""Hostile input for the drills: raw HTTP requests no well-behaved client would send.

Requests go out over a plain socket, byte for byte, so that nothing (httpx, urllib)
tidies them up first. Each case says which statuses are right for it; every answer
must also be the contract's JSON error shape with no traceback in it.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from dataclasses import dataclass

from tests.helpers.credentials import HEADERS as CREDENTIALS

ITEMS = "/api/v1/items"
TRACEBACK = re.compile(rb"Traceback|File \"|line \d+, in ")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Case:
    name: str
    raw: bytes
    allowed: set[int]
    needs_items: bool = False
    # Not valid HTTP for every server: the HTTP server's own parser (gunicorn's, uvicorn's)
    # may refuse it with a plain 400 before the application sees it. That refusal is right,
    # but it is not the application's JSON shape; it must still leak nothing.
    server_may_refuse: bool = False


def request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    for name, value in (CREDENTIALS | (headers or {})).items():
        lines.append(f"{name}: {value}")
    if body or content_length is not None:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_post(body: bytes, content_type: str = "application/json") -> bytes:
    return request("POST", ITEMS, body, {"Content-Type": content_type})


def chunked_json_post(body: bytes, chunk: int = 65536) -> bytes:
    """A POST whose body has no Content-Length: the server learns its size only as it comes."""
    head = request(
        "POST", ITEMS, headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    )
    chunks = [
        b"%x\r\n%s\r\n" % (len(body[at : at + chunk]), body[at : at + chunk])
        for at in range(0, len(body), chunk)
    ]
    return head + b"".join(chunks) + b"0\r\n\r\n"


def send_raw(port: int, raw: bytes, timeout: float = 10.0) -> Reply:
    """Send bytes as they are; read the whole reply (the request asks to close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
    if match is None:
        raise ConnectionError(f"no HTTP reply: {data[:200]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return Reply(int(match.group(1)), headers, body)


def dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def case_problem(case: Case, reply: Reply) -> str | None:
    """Why this reply is wrong for this case, or None when it is right."""
    if TRACEBACK.search(reply.body):
        return "traceback in the body"
    if case.server_may_refuse and reply.status in {400, 431} and not looks_like_json(reply):
        return None
    if reply.status not in case.allowed:
        return f"{reply.status} not in {sorted(case.allowed)}"
    return error_shape_problem(reply)


def looks_like_json(reply: Reply) -> bool:
    return reply.headers.get("content-type", "").startswith("application/json")


def error_shape_problem(reply: Reply) -> str | None:
    """Why this reply breaks the contract's error shape, or None when it keeps it."""
    if TRACEBACK.search(reply.body):
        return "traceback in the body"
    try:
        body = json.loads(reply.body)
    except ValueError:
        return f"body is not JSON: {reply.body[:120]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"no error object: {body!r:.200}"
    for key in ("code", "message", "request_id"):
        if not isinstance(error.get(key), str) or not error[key]:
            return f"error.{key} missing or empty: {error!r:.200}"
    if reply.headers.get("x-request-id") != error["request_id"]:
        return "X-Request-ID header differs from error.request_id"
    return None


def worker_pids(service) -> list[int]:
    """The gunicorn workers: the master's children."""
    found = subprocess.run(
        ["pgrep", "-P", str(service.proc.pid)], capture_output=True, text=True, check=False
    )
    return sorted(int(pid) for pid in found.stdout.split())


def accepted(service, request_ids: list[str]) -> list[str]:
    """Those of these request IDs that reached the service (its access log names them)."""
    wanted = set(request_ids)
    seen = set()
    for line in service.lines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("request_id") in wanted:
            seen.add(record["request_id"])
    return sorted(seen)


MIB = 1024 * 1024


def hostile_cases() -> list[Case]:
    """The fixed list; the property-based drill goes beyond it."""
    bad = {400, 422}
    cases = [
        Case("malformed JSON", json_post(b'{"name": '), bad, True),
        Case("JSON with trailing garbage", json_post(b'{"name": "a"} xx'), bad, True),
        Case("wrongly typed field", json_post(b'{"name": 123}'), {422}, True),
        Case("null name", json_post(b'{"name": null}'), {422}, True),
        Case("array instead of object", json_post(b'[{"name": "a"}]'), {422}, True),
        Case("unknown field only", json_post(b'{"colour": "red"}'), {422}, True),
        Case(
            "name far too long", json_post(json.dumps({"name": "x" * 5000}).encode()), {422}, True
        ),
        Case("deeply nested JSON", json_post(b"[" * 5000 + b"]" * 5000), bad, True),
        Case("wrong content type", json_post(b'{"name": "a"}', "text/plain"), {415, 422}, True),
        Case(
            "form instead of JSON",
            json_post(b"name=a", "application/x-www-form-urlencoded"),
            {415, 422},
            True,
        ),
        Case("empty body", json_post(b""), bad, True),
        Case("invalid UTF-8 in JSON", json_post(b'{"name": "\xff\xfe"}'), bad, True),
        Case("oversized body", json_post(b'{"name": "' + b"a" * (2 * MIB) + b'"}'), {413}, True),
        # Its size shows only as it arrives; Flask once parsed it cut at the limit.
        Case(
            "oversized chunked body",
            chunked_json_post(
                b'{"name": "big", "description": "' + b" " * (MIB + MIB // 2) + b'"}'
            ),
            {413},
            True,
        ),
        Case(
            "lying Content-Length, body never sent",
            request(
                "POST", ITEMS, b"{}", {"Content-Type": "application/json"}, content_length=50 * MIB
            ),
            {413},
            True,
        ),
        Case("negative limit", request("GET", f"{ITEMS}?limit=-1"), bad, True),
        Case("absurd limit", request("GET", f"{ITEMS}?limit=" + "9" * 40), bad, True),
        Case("text offset", request("GET", f"{ITEMS}?offset=abc"), bad, True),
        Case("offset beyond 64 bits", request("GET", f"{ITEMS}?offset=" + "9" * 26), bad, True),
        Case("float limit", request("GET", f"{ITEMS}?limit=1e3"), bad, True),
        Case("id that is not a number", request("GET", f"{ITEMS}/abc"), {422}, True),
        Case("id beyond 64 bits", request("GET", f"{ITEMS}/" + "9" * 30), {422}, True),
        Case("missing item", request("GET", f"{ITEMS}/987654321"), {404}, True),
        # httptools (uvicorn) knows only registered methods; h11 and gunicorn pass BREW on.
        Case("unknown method", request("BREW", "/status"), {405}, server_may_refuse=True),
        Case("method not allowed", request("DELETE", "/status"), {405}),
        Case("dot-dot path", request("GET", "/../../etc/passwd"), {400, 404}),
        Case("encoded dot-dot", request("GET", "/%2e%2e/%2e%2e/etc/passwd"), {400, 404}),
        Case("NUL in path", request("GET", "/status%00.json"), {400, 404}),
        Case("invalid UTF-8 in path", request("GET", "/st%ff%featus"), {400, 404}),
        Case("double slashes", request("GET", "//api//v1//nothing"), {404}),
        Case("very long path", request("GET", "/" + "a" * 3000), {404, 414, 400}),
        Case(
            "hostile request id",
            request("GET", "/nothing", headers={"X-Request-ID": 'x"}\\n{"forged": true'}),
            {404},
        ),
        Case(
            "header value with quotes and braces",
            request("GET", "/nothing", headers={"Referer": '"}{"level":"error","forged":1}'}),
            {404},
        ),
        Case(
            "control character in a header value",
            request("GET", "/nothing", headers={"User-Agent": "\x1b[31mred"}),
            {404},
            server_may_refuse=True,
        ),
        Case(
            "oversized header",
            request("GET", "/status", headers={"X-Big": "a" * 20000}),
            {400, 431},
            server_may_refuse=True,
        ),
        Case(
            "too many headers",
            request("GET", "/status", headers={f"X-H{n}": "v" for n in range(300)}),
            {400, 431},
            server_may_refuse=True,
        ),
        Case(
            "malformed header line",
            b"GET /status HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
            {400},
            server_may_refuse=True,
        ),
    ]
    return cases

"""The real servers the live tiers use start, keep their data across a restart, and stop."""

import socket

import pytest


def answers_on(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_database_keeps_rows_across_a_restart(request, kind):
    server = request.getfixturevalue(kind)
    url = server.create_database("services_check")
    assert url.startswith(("postgresql://", "mysql://"))
    assert url.endswith(f":{server.port}/services_check")
    server.sql("CREATE TABLE t (n int)", database="services_check")
    server.sql("INSERT INTO t VALUES (42)", database="services_check")
    with server.down():
        assert not answers_on(server.port)
    assert answers_on(server.port)
    assert server.sql("SELECT n FROM t", database="services_check").strip() == "42"


def test_redis_answers_ping_and_restarts(redis_server):
    def ping() -> bytes:
        with socket.create_connection(("127.0.0.1", redis_server.port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64)

    assert ping() == b"+PONG\r\n"
    with redis_server.down():
        assert not answers_on(redis_server.port)
    assert ping() == b"+PONG\r\n"

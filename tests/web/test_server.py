"""The HTTP server on a loopback port: keep-alive, slow and silent clients, graceful stop."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.web.conftest import make_app
from workq_core.config import HttpSettings
from workq_core.web import HttpServer

HELLO = json.dumps({"query": "{ hello }"})
JSON = {"Content-Type": "application/json"}


def serve(**options: float) -> HttpServer:
    settings = HttpSettings(**options)
    app = make_app(body_timeout_s=settings.body_timeout_s)
    return HttpServer(app, "127.0.0.1", 0, settings=settings).start()


@pytest.fixture
def server() -> Iterator[HttpServer]:
    running = serve(header_timeout_s=30)
    yield running
    running.stop()


def hello(port: int, timeout_s: float = 10) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("POST", "/graphql", body=HELLO, headers=JSON)
        response = conn.getresponse()
        assert json.loads(response.read()) == {"data": {"hello": "world"}}
        return response.status
    finally:
        conn.close()


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_several_requests_share_one_keep_alive_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    local_ports = set()
    for _ in range(5):
        conn.request("POST", "/graphql", body=HELLO, headers=JSON)
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Connection") != "close"
        response.read()
        local_ports.add(conn.sock.getsockname()[1])
    conn.close()

    assert len(local_ports) == 1


def test_a_request_is_answered_while_200_connections_sit_half_open(server):
    # Given 200 clients that sent a request line and then nothing
    idle = []
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST /graphql HTTP/1.1\r\n")
            idle.append(sock)
        # When another client asks, Then it is answered long before their timeout (30 s)
        started = time.monotonic()
        assert hello(server.port, timeout_s=10) == 200
        assert time.monotonic() - started < 10
    finally:
        for sock in idle:
            sock.close()


def test_a_connection_whose_headers_do_not_arrive_is_closed():
    server = serve(header_timeout_s=0.5)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            assert read_all(sock) == b""  # closed by the server, not by our 10 s timeout
            assert time.monotonic() - started < 8
        assert hello(server.port) == 200
    finally:
        server.stop()


def test_a_body_that_does_not_arrive_gets_408_and_a_close():
    server = serve(body_timeout_s=0.5)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query"'
            )
            answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b"REQUEST_TIMEOUT" in answer
        assert hello(server.port) == 200
    finally:
        server.stop()


def test_stopping_finishes_the_request_in_flight_and_then_refuses():
    # Given a request that takes SLOW_S seconds, under way
    server = serve()
    answers: list[tuple[int, bytes]] = []

    def slow() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        conn.request("POST", "/graphql", body=json.dumps({"query": "{ slow }"}), headers=JSON)
        response = conn.getresponse()
        answers.append((response.status, response.read()))

    client = threading.Thread(target=slow)
    client.start()
    time.sleep(0.5)
    # When the server stops
    server.stop()
    client.join(20)
    # Then the request got its whole answer, and new connections are refused
    assert answers == [(200, b'{"data":{"slow":"done"}}')]
    with pytest.raises(OSError):
        hello(server.port, timeout_s=2)


def test_port_zero_reports_the_bound_port_and_a_taken_port_is_a_config_error(server):
    from workq_core import ConfigError

    assert server.port > 0
    with pytest.raises(ConfigError, match="already in use"):
        HttpServer(make_app(), "127.0.0.1", server.port, setting="jobs.port")


def test_a_server_that_cannot_start_says_so_instead_of_pretending():
    # an app uvicorn cannot load: startup fails on the server's thread
    server = HttpServer(make_app(), "127.0.0.1", 0)
    server._server.config.ws = "no-such-websocket-protocol"

    with pytest.raises(RuntimeError, match="did not start"):
        server.start()

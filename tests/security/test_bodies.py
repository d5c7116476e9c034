"""Oversized, lying, chunked, deeply nested and undecodable request bodies on the real services.

tests/web/test_http_rules.py covers each rule on a sample app in-process; here
the bytes go over a socket to the shipped servers, which answer 4xx and live on.
"""

from __future__ import annotations

import socket

import pytest

from tests.security.conftest import assert_no_leak, graphql_body, raw_request

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

JSON = {"Content-Type": "application/json"}
LIMIT = 64 * 1024


def _bodies() -> dict[str, tuple[bytes, dict[str, str], int]]:
    """``name: (body, extra headers, expected status)``."""
    over = graphql_body("{ __typename }", {"pad": "x" * LIMIT})
    return {
        "over-the-limit": (over, {}, 413),
        "deep-array": (b"[" * 30_000 + b"]" * 30_000, {}, 400),
        "deep-variables": (graphql_body("{ __typename }", {"v": _nest(100)}), {}, 400),
        "not-utf8": (b'{"query": "\xff\xfe"}', {}, 400),
        "nul-bytes": (b'{"query": "{ __typename }\x00"}', {}, 400),
        "empty": (b"", {}, 400),
        "duplicate-keys": (b'{"query": "{ __typename }", "query": 1}', {}, 400),
    }


def _nest(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def _raw_exchange(port: int, head: bytes, body: bytes = b"", timeout_s: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("service_name", ["auth", "jobs"])
def test_hostile_bodies_are_refused(make_stack, service_name):
    stack = make_stack(WORKQ_GRAPHQL_MAX_BODY_BYTES=str(LIMIT))
    port = stack.auth.http_port if service_name == "auth" else stack.jobs.port

    statuses = {}
    for name, (body, headers, _) in _bodies().items():
        response = raw_request(port, "POST", body=body, headers={**JSON, **headers})
        assert_no_leak(str(response.json))
        statuses[name] = response.status

    assert statuses == {name: expected for name, (_, _, expected) in _bodies().items()}
    alive = raw_request(port, "POST", body=graphql_body("{ __typename }"), headers=JSON)
    assert alive.status == 200


def test_a_lying_content_length_is_refused_without_waiting_for_the_body(make_stack):
    stack = make_stack(WORKQ_GRAPHQL_MAX_BODY_BYTES=str(LIMIT))
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000000\r\nConnection: close\r\n\r\n"
    )

    answer = _raw_exchange(stack.jobs.port, head, b'{"query": "{ __typename }"}')

    assert answer.startswith(b"HTTP/1.0 413") or answer.startswith(b"HTTP/1.1 413"), answer[:100]


def test_a_chunked_body_is_not_run_and_not_a_500(make_stack):
    stack = make_stack()
    body = graphql_body(
        'mutation { executeJob(executeJobInput: {name: "Fibonacci", data: {iterations: 1}})'
        " { id } }"
    )
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    answer = _raw_exchange(stack.jobs.port, head, chunked)

    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:200]
    assert stack.count("jobs") == 0

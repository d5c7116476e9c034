"""Hostile job payloads: too big, too many items, too deep, non-finite, unknown fields.

tests/jobs_service/test_submission.py covers empty and non-object data, more
items than a small jobs.max_items, NaN and 1e999. Here: the body limit, the
default item limit, depth, Infinity tokens, huge numbers, unknown fields, and
in every case no job, item or outbox row.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.jobs_service.conftest import EXECUTE
from tests.security.conftest import assert_no_leak

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


def _body(data_json: str, extra_input: str = "") -> bytes:
    variables = (
        '{"executeJobInput": {"name": "Fibonacci", "data": ' + data_json + extra_input + "}}"
    )
    return ('{"query": ' + json.dumps(EXECUTE) + ', "variables": ' + variables + "}").encode()


def _nest(depth: int) -> dict:
    value: dict = {"iterations": 1}
    for _ in range(depth):
        value = {"iterations": 1, "x": value}
    return value


def _inline(literal: str) -> bytes:
    query = (
        'mutation { executeJob(executeJobInput: {name: "Fibonacci", data: '
        + literal
        + "}) { id } }"
    )
    return json.dumps({"query": query}).encode()


def _tables(stack) -> list[int]:
    return [stack.count(table) for table in ("jobs", "items", "outbox")]


def test_hostile_payloads_are_refused_and_store_nothing(make_stack):
    stack = make_stack(WORKQ_GRAPHQL_MAX_BODY_BYTES=str(4 * 1024 * 1024))
    client = stack.user()
    attacks = {
        "over-max-items": (_body(json.dumps([{"iterations": 1}] * 100_001)), 200, "BAD_USER_INPUT"),
        "deep-within-json-limit": (_body(json.dumps(_nest(40))), 200, "BAD_USER_INPUT"),
        "deeper-than-json-limit": (_body(json.dumps(_nest(80))), 400, "BAD_REQUEST"),
        "deep-inline-literal": (
            _inline("{iterations: 1, x: " * 60 + "1" + "}" * 60),
            200,
            "BAD_USER_INPUT",
        ),
        "infinity-token": (_body('{"iterations": Infinity}'), 400, "BAD_REQUEST"),
        "minus-infinity-token": (_body('{"iterations": -Infinity}'), 400, "BAD_REQUEST"),
        "nan-inline": (_inline("{iterations: NaN}"), 200, "BAD_USER_INPUT"),  # an enum name
        "minus-1e999-inline": (_inline("{iterations: -1e999}"), 400, "GRAPHQL_VALIDATION_FAILED"),
        "huge-integer": (_body('{"iterations": 1' + "0" * 5000 + "}"), 400, "BAD_REQUEST"),
        "big-integer": (_body('{"iterations": 1' + "0" * 40 + "}"), 200, "BAD_USER_INPUT"),
        "float-integer": (_body('{"iterations": 1e308}'), 200, "BAD_USER_INPUT"),
        "unknown-item-field": (
            _body('{"iterations": 1, "priority": "high"}'),
            200,
            "BAD_USER_INPUT",
        ),
        "unknown-input-field": (
            _body('{"iterations": 1}', ', "ownerId": 9'),  # (priority is a real field now)
            400,
            "BAD_USER_INPUT",
        ),
        "unknown-inline-input-field": (
            json.dumps(
                {
                    "query": 'mutation { executeJob(executeJobInput: {name: "Fibonacci",'
                    " data: {iterations: 1}, userId: 1}) { id } }"
                }
            ).encode(),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        "one-bad-item-among-many": (
            _body(json.dumps([{"iterations": 1}] * 5000 + [{"iterations": -1}])),
            200,
            "BAD_USER_INPUT",
        ),
    }

    outcomes = {}
    for name, (body, _, _) in attacks.items():
        started = time.perf_counter()
        response = client.post("", raw=body)
        assert time.perf_counter() - started < 10, name
        assert_no_leak(str(response.json))
        assert not (response.json.get("data") or {}).get("executeJob"), name
        outcomes[name] = (response.status, response.code)

    assert outcomes == {name: (status, code) for name, (_, status, code) in attacks.items()}
    assert _tables(stack) == [0, 0, 0]


def test_a_job_over_the_body_limit_is_refused_before_it_is_read(make_stack):
    """The server answers 413 and closes without reading the rest; a client still
    sending may see the connection reset instead of the answer. Either way: nothing stored."""
    stack = make_stack(WORKQ_GRAPHQL_MAX_BODY_BYTES=str(1024 * 1024))
    client = stack.user()
    body = _body(json.dumps([{"iterations": 1}] * 250_000))  # about 4.5 MiB
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Cookie: Authentication=%s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (client.cookies["Authentication"].encode(), len(body))
    )

    with socket.create_connection(("127.0.0.1", stack.jobs.port), timeout=10) as sock:
        try:
            sock.sendall(head + body)
            answer = sock.recv(200)
        except (BrokenPipeError, ConnectionResetError):
            answer = b"(connection closed by the server)"

    assert answer.split(b"\r\n")[0].endswith(b"413 Payload Too Large") or answer.startswith(
        b"(conn"
    )
    assert _tables(stack) == [0, 0, 0]


def test_an_unknown_item_field_is_named(stack):
    response = stack.user().post(
        EXECUTE,
        {
            "executeJobInput": {
                "name": "Fibonacci",
                "data": [{"iterations": 1}, {"iterations": 2, "shell": "rm -rf /"}],
            }
        },
    )

    error = response.json["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "item": 1, "field": "shell"}
    assert _tables(stack) == [0, 0, 0]

"""Attack tests reuse the real services of the auth and jobs tests; helpers for raw requests."""

from __future__ import annotations

import http.client
import json
from typing import Any

from tests.auth.conftest import Response, client, service  # noqa: F401 - fixtures
from tests.jobs_service.conftest import make_stack, stack  # noqa: F401 - fixtures

# Text that only a leaked driver error, SQL statement or stack trace would put in a response.
LEAK_MARKERS = (
    "Traceback",
    'File "/',
    "psycopg",
    "sqlite3",
    "peewee",
    "OperationalError",
    "ProgrammingError",
    "IntegrityError",
    "DataError",
    "syntax error at or near",
    "unrecognized token",
    "password_hash",
    "Internal server error",
)


def raw_request(
    port: int,
    method: str,
    path: str = "/graphql",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
    timeout_s: float = 10,
) -> Response:
    """One HTTP request exactly as given (any method, body and headers), from ``source``."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout_s, source_address=(source, 0)
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        data = answer.read()
    finally:
        conn.close()
    return Response(answer.status, answer.headers, json.loads(data) if data else None)


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def assert_no_leak(text: str) -> None:
    leaked = [marker for marker in LEAK_MARKERS if marker in text]
    assert not leaked, f"response leaks {leaked}: {text[:500]}"

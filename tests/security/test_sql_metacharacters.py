"""SQL metacharacters in every string argument of both schemas: no 500, no leak, the DB lives.

Hypothesis generates documents from the real SDL with hypothesis-graphql; every
``String`` and ``ID`` argument is drawn from SQL injection payloads, NUL bytes,
forged cursors and random text, and ``JSON`` arguments carry the same strings.
"""

from __future__ import annotations

import base64
import os
import re
from importlib.resources import files
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries

from tests.auth.conftest import Client
from tests.jobs_service.conftest import submit
from tests.security.conftest import assert_no_leak

pytestmark = pytest.mark.e2e

SQL_PAYLOADS = [
    "'",
    '"',
    "`",
    "\\",
    ";",
    "--",
    "/*",
    "%",
    "_",
    "?",
    "%s",
    "$1",
    "\x00",
    "a\x00b",
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE users; --",
    "1; DELETE FROM jobs",
    "') UNION SELECT id, email FROM users --",
    "\\'; SELECT pg_sleep(5); --",
    "' || (SELECT 1) || '",
    "00000000-0000-0000-0000-000000000000' OR 'x'='x",
    "a@example.com' --",
    "\uff33\uff25\uff2c\uff25\uff23\uff34",  # fullwidth SELECT
    "\U0001d54a",
    "\u2028",
    "x" * 300,
]
KEYS = ["iterations", "text", "x", "id"]
EXAMPLES = int(os.environ.get("WORKQ_FUZZ_EXAMPLES", "50"))  # more for a deeper run


def _cursor(created: int, tail: str) -> str:
    return base64.urlsafe_b64encode(f"{created}:{tail}".encode()).decode().rstrip("=")


sql_text = st.one_of(
    st.sampled_from(SQL_PAYLOADS),
    st.text(max_size=20),
    st.builds(lambda a, b: a + b, st.sampled_from(SQL_PAYLOADS), st.text(max_size=8)),
    st.builds(
        _cursor, st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(SQL_PAYLOADS)
    ),
)


def _node(value: Any) -> graphql.ValueNode:
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(_node(v) for v in value))
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_node(v))
            for k, v in value.items()
        )
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | sql_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)
CUSTOM = {"SqlString": sql_text.map(_node), "JSON": json_values.map(_node)}


def _sdl(package: str, name: str) -> str:
    """The service's SDL with String and ID arguments drawn from the payloads above."""
    sdl = files(package).joinpath(name).read_text(encoding="utf-8")
    return re.sub(r"\b(String|ID)\b", "SqlString", sdl) + "\nscalar SqlString\n"


def _documents(sdl: str, query_fields: list[str], mutation_fields: list[str]) -> st.SearchStrategy:
    return st.one_of(
        queries(sdl, fields=query_fields, custom_scalars=CUSTOM),
        mutations(sdl, fields=mutation_fields, custom_scalars=CUSTOM),
    )


def _check(response) -> None:
    assert response.status < 500, response.json
    assert_no_leak(str(response.json))
    for error in (response.json or {}).get("errors", []):
        assert error["extensions"]["code"] not in ("INTERNAL", "UNAVAILABLE"), error


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

JOBS_SDL = _sdl("workq_core.jobs_service", "jobs.graphql")
AUTH_SDL = _sdl("workq_core.auth", "schema.graphql")


def test_jobs_schema_strings_never_reach_sql_as_code(stack):
    # Given a user with a job, so that lookups have rows to leak
    user = stack.user()
    job_id = submit(user, "Fibonacci", {"iterations": 3})

    @FUZZ
    @given(
        _documents(
            JOBS_SDL, ["jobs", "job", "myJobs"], ["executeJob", "cancelJob", "retryDeadItems"]
        )
    )
    def attack(document: str) -> None:
        _check(user.post(document))

    attack()

    # Then the tables are intact and the user's job is still theirs
    assert stack.count("users") >= 1
    assert user.post("query ($id: ID!) { job(id: $id) { id } }", {"id": job_id}).json == {
        "data": {"job": {"id": job_id}}
    }


def test_auth_schema_strings_never_reach_sql_as_code(stack):
    user = stack.user()
    at_auth = Client(stack.auth.http_port, dict(user.cookies))

    @FUZZ
    @given(_documents(AUTH_SDL, ["users", "me"], ["createUser", "login", "changePassword"]))
    def attack(document: str) -> None:
        _check(at_auth.post(document))

    attack()

    me = at_auth.post("{ me { email } }").json
    assert "errors" not in me, me
    assert stack.count("users") >= 1

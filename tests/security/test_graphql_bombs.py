"""Depth, alias, batch, token and fragment bombs against both real services, default limits.

tests/web/test_graphql_rules.py proves each limit on a sample app with tight
settings; here the shipped services refuse bombs under their defaults, fast,
before authentication or any resolver runs, and keep serving.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import assert_no_leak, graphql_body, raw_request

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

JSON = {"Content-Type": "application/json"}


def _bombs(root_field: str) -> dict[str, bytes]:
    """Each bomb as a request body; ``root_field`` is a scalar-free root field of the schema."""
    deep_types = "fields { type { " * 10 + "name" + " } }" * 10
    return {
        "aliases": graphql_body("{ " + " ".join(f"a{i}: {root_field}" for i in range(1000)) + " }"),
        "introspection-depth": graphql_body("{ __schema { types { " + deep_types + " } } }"),
        "fragment-cycle": graphql_body(
            f"query {{ ...A }} fragment A on Query {{ {root_field} ...B }}"
            " fragment B on Query { ...A }"
        ),
        "tokens": graphql_body("{ " + "__typename " * 100_000 + "}"),
        "directives": graphql_body("{ __typename" + " @skip(if: false)" * 2000 + " }"),
        "batch": json.dumps([{"query": "{ __typename }"}] * 1000).encode(),
        "nested-list-literal": graphql_body(
            "{ __typename @skip(if: " + "[" * 300 + "]" * 300 + ") }"
        ),
        "many-operations": graphql_body(
            " ".join(f"query q{i} {{ __typename }}" for i in range(2000))
        ),
    }


def _attack(port: int, root_field: str) -> dict[str, tuple[int, str]]:
    results = {}
    for name, body in _bombs(root_field).items():
        response = raw_request(port, "POST", body=body, headers=JSON)
        assert "data" not in response.json or response.json["data"] is None, name
        assert_no_leak(str(response.json))
        results[name] = (response.status, response.json["errors"][0]["message"])
    return results


@pytest.mark.parametrize("service_name", ["auth", "jobs"])
def test_bombs_are_refused_by_their_limits_and_the_service_keeps_serving(stack, service_name):
    port, root_field = {
        "auth": (stack.auth.http_port, "me { id }"),
        "jobs": (stack.jobs.port, "jobs { name }"),
    }[service_name]

    results = _attack(port, root_field)

    # Each is refused by the limit made for it, before any work that grows with it (how
    # fast that is lives in a benchmark, not here: this machine is shared and noisy)
    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(results, 400)
    tokens = "Syntax Error: Document contains more than 5000 tokens. Parsing aborted."
    assert {name: message for name, (_, message) in results.items()} == {
        "aliases": tokens,
        "introspection-depth": "Query is too deep: at most 12 levels.",
        "fragment-cycle": "Cannot spread fragment 'A' within itself via 'B'.",
        "tokens": tokens,
        "directives": tokens,
        "batch": "Expected one JSON object (no batching).",
        "nested-list-literal": "Syntax Error: Document is nested too deeply. Parsing aborted.",
        "many-operations": tokens,
    }
    alive = raw_request(port, "POST", body=graphql_body("{ __typename }"), headers=JSON)
    assert alive.json == {"data": {"__typename": "Query"}}

"""Depth, alias, batch, token and fragment bombs against both real services, default limits.

tests/web/test_graphql_rules.py proves each limit on a sample app with tight
settings; here the shipped services refuse bombs under their defaults, fast,
before authentication or any resolver runs, and keep serving.
"""

from __future__ import annotations

import json
import time

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


def _attack(port: int, root_field: str) -> dict[str, tuple[int, float]]:
    results = {}
    for name, body in _bombs(root_field).items():
        started = time.perf_counter()
        response = raw_request(port, "POST", body=body, headers=JSON)
        results[name] = (response.status, time.perf_counter() - started)
        assert "data" not in response.json or response.json["data"] is None, name
        assert_no_leak(str(response.json))
    return results


@pytest.mark.parametrize("service_name", ["auth", "jobs"])
def test_bombs_are_refused_fast_and_the_service_keeps_serving(stack, service_name):
    port, root_field = {
        "auth": (stack.auth.http_port, "me { id }"),
        "jobs": (stack.jobs.port, "jobs { name }"),
    }[service_name]

    results = _attack(port, root_field)

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(results, 400)
    slowest = max(results.items(), key=lambda item: item[1][1])
    assert slowest[1][1] < 2.0, slowest
    alive = raw_request(port, "POST", body=graphql_body("{ __typename }"), headers=JSON)
    assert alive.json == {"data": {"__typename": "Query"}}

"""Document limits, hidden suggestions, introspection switch and the error mapping."""

from __future__ import annotations

from tests.web.conftest import make_client
from tests.web.test_http_rules import code, post


def test_query_deeper_than_the_limit_is_refused(client):
    ok = post(client, {"query": "{ node { child { child { name } } } }"})
    deep = post(client, {"query": "{ node { child { child { child { name } } } } }"})

    assert ok.status_code == 200
    assert deep.status_code == 400
    assert "too deep" in deep.json["errors"][0]["message"]


def test_depth_counts_through_fragments(client):
    query = (
        "query { node { ...A } } fragment A on Node { child { ...B } } "
        "fragment B on Node { child { child { name } } }"
    )

    assert post(client, {"query": query}).status_code == 400


def test_more_aliases_than_the_limit_are_refused(client):
    ok = post(client, {"query": "{ a: hello b: hello c: hello }"})
    many = post(client, {"query": "{ a: hello b: hello c: hello d: hello }"})

    assert ok.status_code == 200
    assert many.status_code == 400
    assert "aliases" in many.json["errors"][0]["message"]


def test_more_tokens_than_the_limit_are_refused(client):
    result = post(client, {"query": "{ " + "hello " * 300 + "}"})

    assert result.status_code == 400
    assert code(result) == "GRAPHQL_PARSE_FAILED"


def test_field_suggestions_are_hidden(client):
    result = post(client, {"query": "{ helo }"})

    assert result.status_code == 400
    assert "Did you mean" not in result.text
    assert "hello" not in result.json["errors"][0]["message"]


def test_introspection_can_be_switched_off():
    on = make_client()
    off = make_client(WORKQ_GRAPHQL_INTROSPECTION="false")
    query = {"query": "{ __schema { queryType { name } } }"}

    assert post(on, query).json["data"]["__schema"]["queryType"]["name"] == "Query"
    assert post(off, query).status_code == 400


def test_graphiql_introspection_query_fits_the_default_limits():
    from graphql import get_introspection_query

    query = {"query": get_introspection_query()}
    tight = make_client(
        WORKQ_GRAPHQL_MAX_BODY_BYTES=str(1024 * 1024), WORKQ_GRAPHQL_MAX_TOKENS="100"
    )
    default = make_client()  # the tests' limits: 200 tokens, depth 4

    assert post(tight, query).status_code == 400
    assert post(default, query).status_code == 200


def test_introspection_fan_out_is_bounded_by_depth(client):
    nested = "fields { type { " * 8 + "name" + " } }" * 8

    result = post(client, {"query": "{ __schema { types { " + nested + " } } }"})

    assert result.status_code == 400
    assert "too deep" in result.json["errors"][0]["message"]


def test_unexpected_errors_are_internal_and_carry_no_details(client, caplog):
    result = post(client, {"query": "{ boom leak }"})

    assert result.status_code == 200
    messages = [e["message"] for e in result.json["errors"]]
    assert messages == ["Internal server error.", "Internal server error."]
    assert {e["extensions"]["code"] for e in result.json["errors"]} == {"INTERNAL"}
    for secret in ("SELECT", "/srv", "users_email_key", "duplicate", "Traceback"):
        assert secret not in result.text
    assert "SELECT password_hash" in caplog.text  # the server log keeps the details


def test_unreachable_database_is_unavailable(client):
    result = post(client, {"query": "{ down }"})

    assert code(result) == "UNAVAILABLE"
    assert "127.0.0.1" not in result.text
    assert "psycopg" not in result.text.lower()


def test_unauthenticated_without_token_or_with_a_bad_one(client):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer error"}):
        result = post(client, {"query": "{ whoami }"}, **headers)
        assert code(result) == "UNAUTHENTICATED"


def test_bearer_header_and_cookie_both_authenticate(client):
    by_header = post(client, {"query": "{ whoami }"}, Authorization="Bearer good")
    by_cookie = post(client, {"query": "{ whoami }"}, Cookie="Authentication=good")

    assert by_header.json["data"] == {"whoami": "alice"}
    assert by_cookie.json["data"] == {"whoami": "alice"}


def test_bad_variables_are_bad_user_input(client):
    result = post(
        client,
        {"query": "query Q($x: Boolean!) { hello @skip(if: $x) }", "variables": {"x": "one"}},
    )

    assert result.status_code == 400
    assert code(result) == "BAD_USER_INPUT"

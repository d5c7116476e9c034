"""HTTP-level hardening: body size, JSON strictness, content types and methods (CSRF)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.web.conftest import make_app, make_client
from workq_core.web import HttpServer


def post(client, body, content_type="application/json", **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.simulate_post("/graphql", body=data, headers={"Content-Type": content_type, **kw})


def code(result):
    return result.json["errors"][0]["extensions"]["code"]


def test_a_query_by_post_works(client):
    result = post(client, {"query": "{ hello }"})

    assert result.status_code == 200
    assert result.json == {"data": {"hello": "world"}}
    assert result.headers["Cache-Control"] == "no-store"


def test_body_over_the_limit_is_413(client):
    result = post(client, {"query": "{ hello }", "pad": "x" * 4096})

    assert result.status_code == 413
    assert code(result) == "PAYLOAD_TOO_LARGE"


def test_body_larger_than_its_declared_length_is_still_cut_at_the_limit():
    # On a real server: falcon's ASGI simulation rewrites Content-Length to the body's size.
    body = json.dumps({"query": "{ hello }", "pad": "x" * 4096}).encode()
    head = b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    server = HttpServer(make_app(), "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head + b"Content-Length: 100\r\n\r\n" + body)
            status_line = sock.makefile("rb").readline()
    finally:
        server.stop()

    assert status_line.split()[1] == b"400"  # only 100 bytes were read: truncated JSON, not a 500


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        b"\xff\xfe",
        '{"query": "{ hello }", "variables": {"x": NaN}}',
        '{"query": "{ hello }", "variables": {"x": Infinity}}',
        '{"query": "{ hello }", "variables": ' + "[" * 9 + "]" * 9 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["malformed", "not-utf8", "nan", "infinity", "too-deep", "stack-deep"],
)
def test_bad_json_is_400(body):
    client = make_client(WORKQ_GRAPHQL_MAX_BODY_BYTES=str(1024 * 1024))

    result = post(client, body)

    assert result.status_code == 400
    assert code(result) == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body",
    [[{"query": "{ hello }"}], {"query": 1}, {"query": "{ hello }", "variables": [1]}],
    ids=["batch", "query-not-string", "variables-not-object"],
)
def test_wrong_request_shape_is_400(client, body):
    assert post(client, body).status_code == 400


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_mutations_without_json_content_type_are_refused(client, content_type):
    result = post(client, {"query": "mutation { touch }"}, content_type=content_type)

    assert result.status_code == 415
    assert "data" not in result.json


def test_mutation_by_get_is_refused(client):
    result = client.simulate_get("/graphql", params={"query": "mutation { touch }"})

    assert result.status_code == 405
    assert result.headers["Allow"] == "POST"
    assert "data" not in result.json


def test_query_by_get_works(client):
    result = client.simulate_get("/graphql", params={"query": "{ hello }"})

    assert result.status_code == 200
    assert result.json["data"] == {"hello": "world"}


def test_browser_get_without_query_serves_graphiql(client):
    result = client.simulate_get("/graphql", headers={"Accept": "text/html,*/*"})

    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/html")
    assert "graphiql" in result.text.lower()


def test_api_get_without_query_is_400(client):
    assert client.simulate_get("/graphql").status_code == 400

"""A mutation authenticated by the cookie is refused when its Origin is foreign (CSRF)."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_client
from tests.web.test_http_rules import code, post

MUTATION = {"query": "mutation { touch }"}
COOKIE = {"Cookie": "Authentication=good", "Host": "jobs.example.com:3001"}


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://jobs.example.com:4000",  # same site, other port: SameSite=Lax still sends it
        "https://sub.jobs.example.com:3001",
        "null",  # sandboxed frames and file:// pages
        "http://[::1",  # malformed
    ],
)
def test_a_cookie_mutation_from_a_foreign_origin_is_forbidden(client, origin):
    result = post(client, MUTATION, Origin=origin, **COOKIE)

    assert result.status_code == 403
    assert code(result) == "FORBIDDEN"
    assert "data" not in result.json


def test_the_services_own_origin_is_allowed_whatever_the_scheme(client):
    for origin in ("http://jobs.example.com:3001", "https://JOBS.example.com:3001/"):
        assert post(client, MUTATION, Origin=origin, **COOKIE).json == {"data": {"touch": True}}


def test_no_origin_means_not_a_browser_page_and_is_allowed(client):
    assert post(client, MUTATION, **COOKIE).json == {"data": {"touch": True}}


def test_queries_from_a_foreign_origin_still_run(client):
    """A cross-origin page cannot read the answer: no CORS headers are ever sent."""
    result = post(client, {"query": "{ whoami }"}, Origin="https://evil.example", **COOKIE)

    assert result.json == {"data": {"whoami": "alice"}}
    assert "Access-Control-Allow-Origin" not in result.headers


def test_bearer_requests_are_not_cookie_requests(client):
    result = post(
        client,
        MUTATION,
        Origin="https://evil.example",
        Authorization="Bearer good",
        **COOKIE,
    )

    assert result.json == {"data": {"touch": True}}


def test_configured_origins_are_allowed():
    client = make_client(WORKQ_GRAPHQL_ALLOWED_ORIGINS="https://app.example.com")

    allowed = post(client, MUTATION, Origin="https://app.example.com", **COOKIE)
    other = post(client, MUTATION, Origin="https://other.example.com", **COOKIE)

    assert allowed.json == {"data": {"touch": True}}
    assert other.status_code == 403

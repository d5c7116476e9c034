"""The revocation delay jobs.auth_cache_s allows, measured against real services."""

from __future__ import annotations

import time

from tests.auth.conftest import Client

JOBS = "query { jobs { name } }"


def code(response) -> str | None:
    errors = response.json.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


def logout(stack, jobs_client: Client) -> None:
    at_auth = Client(stack.auth.http_port, dict(jobs_client.cookies))
    assert at_auth.post("mutation { logout }").json == {"data": {"logout": True}}


def test_a_revoked_token_works_at_most_auth_cache_s_longer_at_the_jobs_service(make_stack):
    # Given a jobs service that remembers accepted tokens for 1 s, and a token it accepted
    stack = make_stack(WORKQ_JOBS_AUTH_CACHE_S="1")
    alice = stack.user()
    assert code(alice.post(JOBS)) is None
    accepted_at = time.monotonic()
    # When the user logs out (every earlier token revoked at the auth service)
    logout(stack, alice)
    # Then the jobs service may still accept the token, but only within the 1 s bound ...
    while code(alice.post(JOBS)) is None:
        assert time.monotonic() - accepted_at <= 1.0 + 0.5, "accepted past jobs.auth_cache_s"
        time.sleep(0.05)
    # ... and from then on refuses it
    assert code(alice.post(JOBS)) == "UNAUTHENTICATED"


def test_with_auth_cache_s_zero_a_revoked_token_is_refused_at_once(make_stack):
    stack = make_stack(WORKQ_JOBS_AUTH_CACHE_S="0")
    alice = stack.user()
    assert code(alice.post(JOBS)) is None
    logout(stack, alice)
    assert code(alice.post(JOBS)) == "UNAUTHENTICATED"


def test_a_token_accepted_recently_keeps_working_through_a_short_auth_outage(make_stack):
    # Given a token the jobs service accepted a moment ago (cache 2 s)
    stack = make_stack(WORKQ_JOBS_AUTH_CACHE_S="2")
    alice = stack.user()
    assert code(alice.post(JOBS)) is None
    # When the auth service goes away
    stack.auth.stop()
    # Then the remembered answer still serves, and once it expires the caller is denied
    assert code(alice.post(JOBS)) is None
    time.sleep(2.1)
    assert code(alice.post(JOBS)) == "UNAVAILABLE"

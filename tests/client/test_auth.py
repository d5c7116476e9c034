"""``workq.Client`` logging in, reusing a token, and refused without one, on real services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import workq
from tests.auth.conftest import start
from tests.client.conftest import PASSWORD, Running
from workq_core.auth import AuthServiceHandle


def test_login_keeps_the_token_and_the_jobs_service_accepts_it(
    running: Running, email: str
) -> None:
    with workq.Client(running.jobs_url, running.auth_url) as client:
        # When the password is right
        token = client.login(email, PASSWORD)
        # Then the client keeps the token (a JWT) and uses it
        assert client.token == token and token.count(".") == 2
        assert list(client.jobs()) == []
        assert "token" not in repr(client) and token not in repr(client)


def test_a_wrong_password_is_unauthenticated(running: Running, email: str) -> None:
    with workq.Client(running.jobs_url, running.auth_url) as client:
        with pytest.raises(workq.Unauthenticated, match="Invalid email or password") as refused:
            client.login(email, "not-the-password")
        assert refused.value.code == "UNAUTHENTICATED"
        assert refused.value.url == running.auth_url
        assert client.token is None


def test_a_saved_token_is_enough_without_the_auth_url(running: Running, email: str) -> None:
    # Given a token from an earlier login
    with workq.Client(running.jobs_url, running.auth_url) as first:
        token = first.login(email, PASSWORD)
        job = first.submit("Fibonacci", {"iterations": 5})

    # When a new client is made with just the token
    with workq.Client(running.jobs_url, token=token) as again:
        # Then it reads the same user's jobs
        assert again.wait(job.id, timeout_s=30).status == "completed"
        # And it cannot log in: it has no auth service
        with pytest.raises(ValueError, match="without auth_url"):
            again.login(email, PASSWORD)


def test_without_a_token_every_call_is_unauthenticated(running: Running) -> None:
    with workq.Client(running.jobs_url) as anonymous:
        with pytest.raises(workq.Unauthenticated) as refused:
            anonymous.submit("Fibonacci", {"iterations": 1})
        assert refused.value.code == "UNAUTHENTICATED"
        with pytest.raises(workq.Unauthenticated):
            list(anonymous.jobs())


def test_a_forged_token_is_unauthenticated(running: Running, client: workq.Client) -> None:
    assert client.token is not None
    head, payload, signature = client.token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    with (
        workq.Client(running.jobs_url, token=forged) as tampered,
        pytest.raises(workq.Unauthenticated),
    ):
        tampered.job("00000000-0000-4000-8000-000000000000")


def test_logout_revokes_every_token_of_the_user(running: Running, client: workq.Client) -> None:
    # Given a second client holding the same user's token
    with workq.Client(running.jobs_url, token=client.token) as elsewhere:
        assert list(elsewhere.jobs()) == []
        # When the user logs out
        client.logout()
        # Then neither token works any more
        assert client.token is None
        with pytest.raises(workq.Unauthenticated):
            list(elsewhere.jobs())


def test_a_taken_email_is_bad_input_naming_the_field(running: Running, email: str) -> None:
    with workq.Client(running.jobs_url, running.auth_url) as client:
        with pytest.raises(workq.BadInput, match="already registered") as refused:
            client.create_user(email, PASSWORD)
        assert refused.value.field == "email"


@pytest.fixture
def strict_auth(tmp_path: Path) -> Iterator[AuthServiceHandle]:
    """An auth service of this test's own that allows two failed logins and small bodies."""
    handle = start(
        f"sqlite:///{tmp_path / 'auth.db'}",
        tmp_path,
        WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="2",
        WORKQ_GRAPHQL_MAX_BODY_BYTES="2048",
    )
    yield handle
    handle.stop()


def test_too_many_logins_are_rate_limited(strict_auth: AuthServiceHandle) -> None:
    auth_url = f"http://127.0.0.1:{strict_auth.http_port}/graphql"
    with workq.Client(auth_url, auth_url) as client:
        client.create_user("a@example.com", PASSWORD)
        for _ in range(2):
            with pytest.raises(workq.Unauthenticated):
                client.login("a@example.com", "wrong-password")
        with pytest.raises(workq.RateLimited, match="Too many login attempts") as limited:
            client.login("a@example.com", PASSWORD)
        assert limited.value.code == "RATE_LIMITED"
        assert 0 < limited.value.retry_after_s <= 300  # the default window


def test_a_body_over_the_limit_is_bad_input_naming_the_url(
    strict_auth: AuthServiceHandle,
) -> None:
    auth_url = f"http://127.0.0.1:{strict_auth.http_port}/graphql"
    with workq.Client(auth_url, auth_url) as client, pytest.raises(workq.BadInput) as refused:
        client.create_user("a@example.com", "x" * 4096)
    assert refused.value.code == "PAYLOAD_TOO_LARGE"
    assert str(refused.value).startswith(f"{auth_url} answered HTTP 413")

"""Login brute force and user enumeration, from several client addresses.

tests/auth/test_login_protection.py covers aliased attempts in one document,
the per-address limit across emails, successful logins and equal bodies and
timing for unknown email and wrong password. Here: the per-email limit holds
across addresses (127.0.0.0/8 is all loopback), forwarded headers do not reset
it, spellings of one email share it, and every failure reads the same.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.auth.conftest import LOGIN, Client, create_user, start
from tests.security.conftest import graphql_body, raw_request

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

JSON = {"Content-Type": "application/json"}


def _login(
    port: int,
    email: str,
    password: str = "wrong-password",  # noqa: S107 - a wrong one
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
):
    body = graphql_body(LOGIN, {"loginInput": {"email": email, "password": password}})
    return raw_request(port, "POST", body=body, headers={**JSON, **(headers or {})}, source=source)


@pytest.fixture
def limited(database_url, tmp_path):
    handle = start(database_url, tmp_path, WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="3")
    create_user(Client(handle.http_port), "a@example.com")
    yield handle.http_port
    handle.stop()


def test_the_per_email_limit_holds_across_client_addresses(limited):
    codes = [_login(limited, "a@example.com", source=f"127.0.0.{n}").code for n in range(2, 7)]
    right = _login(limited, "a@example.com", "S3cret!pass", source="127.0.0.9")

    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"] * 2
    assert right.code == "RATE_LIMITED"  # even the right password, for now


def test_forwarded_headers_do_not_reset_the_per_address_limit(limited):
    codes = [
        _login(
            limited,
            f"u{n}@example.com",
            headers={
                "X-Forwarded-For": f"10.0.0.{n}",
                "X-Real-IP": f"10.0.0.{n}",
                "Forwarded": f"for=10.0.0.{n}",
            },
        ).code
        for n in range(5)
    ]

    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"] * 2


def test_spellings_of_one_email_share_its_limit(limited):
    spellings = ["a@example.com", "A@EXAMPLE.COM", "  a@example.com ", "A@example.com"]
    codes = [
        _login(limited, email, source=f"127.0.0.{n + 2}").code for n, email in enumerate(spellings)
    ]

    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]


def test_every_failure_reads_the_same_whether_or_not_the_user_exists(database_url, tmp_path):
    handle = start(database_url, tmp_path, WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="2")
    try:
        port = handle.http_port
        create_user(Client(port), "a@example.com")
        attempts = {
            "wrong-password": ("a@example.com", "wrong-password", "127.0.0.2"),
            "unknown-email": ("nobody@example.com", "wrong-password", "127.0.0.3"),
            "malformed-email": ("not an email\x00", "wrong-password", "127.0.0.4"),
            "overlong-password": ("a@example.com", "x" * 5000, "127.0.0.5"),
        }
        failures = {name: _login(port, e, p, source=s) for name, (e, p, s) in attempts.items()}
        for email, source in (("a@example.com", "127.0.0.6"), ("nobody@example.com", "127.0.0.7")):
            _login(port, email, source=source)  # each email's second failure uses up its limit
        limited = {
            "known": _login(port, "a@example.com", source="127.0.0.8"),
            "unknown": _login(port, "nobody@example.com", source="127.0.0.9"),
        }
    finally:
        handle.stop()

    bodies = {name: r.json for name, r in failures.items()}
    assert len({str(b) for b in bodies.values()}) == 1, bodies
    assert bodies["unknown-email"]["errors"][0]["message"] == "Invalid email or password."
    assert {r.status for r in failures.values()} == {200}
    # the time to wait follows the times of the attempts, never whether the user exists
    assert _without_wait(limited["known"].json) == _without_wait(limited["unknown"].json)
    assert limited["known"].code == "RATE_LIMITED"


def _without_wait(body: dict) -> str:
    return re.sub(r"\d+", "N", json.dumps(body))

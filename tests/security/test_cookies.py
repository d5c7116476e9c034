"""The Authentication cookie's flags on every response that sets or clears it.

tests/auth/test_end_to_end.py checks the login cookie outside local mode;
here: local mode, the explicit setting, password change and logout.
"""

from __future__ import annotations

import pytest

from tests.auth.conftest import Client, create_user, login, start

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CHANGE = (
    'mutation { changePassword(changePasswordInput: {currentPassword: "S3cret!pass",'
    ' newPassword: "N3w-password"}) }'
)


def _attributes(set_cookie: str) -> dict[str, str]:
    name_value, *parts = (p.strip() for p in set_cookie.split(";"))
    attributes = {"name": name_value.split("=", 1)[0]}
    for part in parts:
        key, _, value = part.partition("=")
        attributes[key.lower()] = value
    return attributes


def _cookies(response) -> list[dict[str, str]]:
    return [_attributes(h) for h in response.headers.get_all("Set-Cookie") or []]


def _session(database_url, tmp_path, **env):
    handle = start(database_url, tmp_path, **env)
    client = Client(handle.http_port)
    create_user(client)
    return handle, client


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, True),
        ({"WORKQ_CORE_LOCAL": "true"}, False),
        ({"WORKQ_CORE_LOCAL": "true", "WORKQ_AUTH_COOKIE_SECURE": "true"}, True),
        ({"WORKQ_AUTH_COOKIE_SECURE": "false"}, False),
    ],
    ids=["default", "local", "local-forced-secure", "explicitly-insecure"],
)
def test_every_cookie_the_service_sets_has_the_flags(database_url, tmp_path, env, secure):
    handle, client = _session(database_url, tmp_path, JWT_EXPIRATION_MS="900000", **env)
    try:
        logged_in = login(client)
        changed = client.post(CHANGE)
        logged_out = client.post("mutation { logout }")
    finally:
        handle.stop()

    (on_login,) = _cookies(logged_in)
    (on_change,) = _cookies(changed)
    (on_logout,) = _cookies(logged_out)
    for cookie in (on_login, on_change, on_logout):
        assert cookie["name"] == "Authentication"
        assert "httponly" in cookie
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert ("secure" in cookie) is secure
        assert "domain" not in cookie  # host-only: never sent to other hosts
    assert on_login["max-age"] == on_change["max-age"] == "900"
    assert "1970" in on_logout["expires"]  # cleared at once
    assert "Authentication" not in str(logged_in.json) + str(changed.json)


def test_no_cookie_is_set_by_a_failed_login(database_url, tmp_path):
    handle, client = _session(database_url, tmp_path)
    try:
        failed = login(client, password="wrong-password")
    finally:
        handle.stop()

    assert failed.code == "UNAUTHENTICATED"
    assert _cookies(failed) == []

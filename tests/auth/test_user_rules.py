"""Users: email normalisation and uniqueness, password bounds, server-owned fields."""

from __future__ import annotations

import pytest

from tests.auth.conftest import CREATE, create_user, login


def test_email_is_normalised_and_unique_regardless_of_case(client):
    first = create_user(client, email="  Alice@Example.COM ")
    again = create_user(client, email="alice@example.com")

    assert first.json["data"]["createUser"]["email"] == "alice@example.com"
    assert again.code == "BAD_USER_INPUT"
    assert again.json["errors"][0]["extensions"]["field"] == "email"
    assert login(client, email="ALICE@example.com").status == 200


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "a b@example.com", "a@@example.com"])
def test_invalid_email_is_bad_user_input(client, email):
    result = create_user(client, email=email)

    assert result.code == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("1234567", False),
        ("12345678", True),
        ("é" * 36, True),  # 72 bytes
        ("é" * 37, False),  # 74 bytes but only 37 characters
        ("x" * 73, False),
        ("x" * 10_000, False),
    ],
)
def test_password_length_bounds_are_clear_errors_never_500(client, password, ok):
    result = create_user(client, password=password)

    assert result.status == 200
    if ok:
        assert result.json["data"]["createUser"]["email"] == "a@example.com"
    else:
        assert result.code == "BAD_USER_INPUT"
        assert result.json["errors"][0]["extensions"]["field"] == "password"


def test_login_with_an_overlong_password_is_invalid_credentials_not_500(client):
    create_user(client)

    result = login(client, password="x" * 200)

    assert result.status == 200
    assert result.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("extra", ['id: "7"', 'role: "admin"', 'passwordHash: "x"'])
def test_server_owned_fields_cannot_be_set(client, extra):
    query = CREATE.replace('password: "%s"', 'password: "%s", ' + extra)

    result = client.post(query % ("a@example.com", "S3cret!pass"))

    assert result.status == 400
    assert "data" not in result.json or result.json["data"] is None


def test_hash_and_role_are_not_in_the_schema(client):
    result = client.post("{ users { id email role passwordHash } }")

    assert result.status == 400

"""The original documents, verbatim, against a real server on each database."""

from __future__ import annotations

from tests.auth.conftest import Client, create_user, login


def test_create_login_and_list_users_with_the_cookie(client):
    created = create_user(client)
    assert created.status == 200
    assert created.json["data"]["createUser"]["email"] == "a@example.com"

    logged_in = login(client)

    assert logged_in.json == {"data": {"login": {"id": created.json["data"]["createUser"]["id"]}}}
    cookie = logged_in.headers["Set-Cookie"]
    for attribute in ("Authentication=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"):
        assert attribute in cookie
    assert "Secure" in cookie  # not local mode
    assert client.cookies["Authentication"] not in str(logged_in.json)

    users = client.post("query { users { id email } }")
    assert users.json["data"]["users"] == [created.json["data"]["createUser"]]


def test_bearer_header_authenticates_too(client):
    create_user(client)
    login(client)
    token = client.cookies.pop("Authentication")

    assert client.post("{ me { email } }").code == "UNAUTHENTICATED"
    me = client.post("{ me { email } }", headers={"Authorization": f"Bearer {token}"})
    assert me.json["data"]["me"]["email"] == "a@example.com"


def test_users_needs_an_authenticated_user(client):
    result = client.post("query { users { id email } }")

    assert result.code == "UNAUTHENTICATED"
    assert result.json["data"] is None


def test_logout_revokes_earlier_tokens(client):
    create_user(client)
    login(client)
    token = client.cookies["Authentication"]

    assert client.post("mutation { logout }").json["data"] == {"logout": True}

    assert "Authentication" not in client.cookies
    reused = client.post("{ me { id } }", headers={"Authorization": f"Bearer {token}"})
    assert reused.code == "UNAUTHENTICATED"


def test_password_change_revokes_earlier_tokens_and_sets_a_new_one(client, service):
    create_user(client)
    login(client)
    old = client.cookies["Authentication"]

    changed = client.post(
        'mutation { changePassword(changePasswordInput: {currentPassword: "S3cret!pass",'
        ' newPassword: "N3w-password"}) }'
    )

    assert changed.json["data"] == {"changePassword": True}
    assert client.post("{ me { email } }").json["data"]["me"]["email"] == "a@example.com"
    stale = Client(service.http_port).post(
        "{ me { id } }", headers={"Authorization": f"Bearer {old}"}
    )
    assert stale.code == "UNAUTHENTICATED"
    assert login(Client(service.http_port), password="N3w-password").status == 200
    assert login(Client(service.http_port)).code == "UNAUTHENTICATED"

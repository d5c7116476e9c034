"""Login attempts are limited per field, and failures look and take alike."""

from __future__ import annotations

import time

from tests.auth.conftest import Client, auth_env, create_user, login, start


def test_aliased_logins_are_counted_per_field(client):
    """Given one document of 12 aliased logins with a wrong password,
    each login field that runs is counted; mutations run in order and the first
    failure (login is non-null) ends the document, so 10 documents use up the limit."""
    create_user(client)
    fields = " ".join(
        f'l{i}: login(loginInput: {{email: "a@example.com", password: "wrong-pass"}}) {{ id }}'
        for i in range(12)
    )

    results = [client.post(f"mutation {{ {fields} }}") for _ in range(11)]

    codes = [[e["extensions"]["code"] for e in r.json["errors"]] for r in results]
    assert codes == [["UNAUTHENTICATED"]] * 10 + [["RATE_LIMITED"]]
    assert login(client).code == "RATE_LIMITED"  # even the right password, for now


def test_attempts_are_limited_per_client_address_across_emails(database_url, tmp_path):
    handle = start(database_url, tmp_path, WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="3")
    try:
        client = Client(handle.http_port)
        codes = [login(client, email=f"u{i}@example.com").code for i in range(5)]
    finally:
        handle.stop()

    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"] * 2


def test_successful_logins_do_not_use_up_the_limit(database_url, tmp_path):
    handle = start(database_url, tmp_path, WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="2")
    try:
        client = Client(handle.http_port)
        create_user(client)
        statuses = [login(client).status for _ in range(5)]
        codes = [login(client).json.get("errors") for _ in range(2)]
    finally:
        handle.stop()

    assert statuses == [200] * 5
    assert codes == [None, None]


def test_unknown_email_and_wrong_password_give_the_same_body_and_similar_time(
    database_url, tmp_path
):
    handle = start(
        database_url, tmp_path, WORKQ_AUTH_BCRYPT_COST="10", WORKQ_AUTH_LOGIN_MAX_ATTEMPTS="100"
    )
    try:
        client = Client(handle.http_port)
        create_user(client)
        unknown, wrong, t_unknown, t_wrong = [], [], [], []
        for _ in range(5):
            t0 = time.perf_counter()
            unknown.append(login(client, email="nobody@example.com").json)
            t1 = time.perf_counter()
            wrong.append(login(client, password="wrong-password").json)
            t_unknown.append(t1 - t0)
            t_wrong.append(time.perf_counter() - t1)
    finally:
        handle.stop()

    assert unknown[0] == wrong[0]
    assert unknown[0]["errors"][0]["message"] == "Invalid email or password."
    # Both pay one bcrypt round of cost 10 (tens of ms); without the dummy round an unknown
    # email answers in about a millisecond. The fastest of each is compared: a loaded machine
    # only ever adds time, so the minima keep the side channel visible and the noise out.
    fast, slow = sorted([min(t_unknown), min(t_wrong)])
    assert slow / fast < 3


def test_env_helper_uses_low_bcrypt_cost(database_url, tmp_path):
    assert auth_env(database_url, tmp_path)["WORKQ_AUTH_BCRYPT_COST"] == "4"

"""Cross-site request forgery with the victim's cookie leaves no job, item or outbox row.

tests/web/test_http_rules.py and tests/web/test_origin.py check the rules on a
sample app; here the real services are attacked with a real session cookie.
"""

from __future__ import annotations

import json
import urllib.parse

from tests.auth.conftest import Client
from tests.jobs_service.conftest import EXECUTE
from tests.security.conftest import graphql_body, raw_request

JOB = {"executeJobInput": {"name": "Fibonacci", "data": {"iterations": 1}}}
INLINE = (
    'mutation { executeJob(executeJobInput: {name: "Fibonacci", data: {iterations: 1}}) { id } }'
)
EVIL = "https://evil.example"


def _tables(stack) -> list[int]:
    return [stack.count(table) for table in ("jobs", "items", "outbox")]


def _forgeries(port: int, cookie: str) -> dict[str, tuple[str, bytes | None, dict[str, str], str]]:
    """``name: (method, body, headers, path)`` of what a hostile page can make a browser send."""
    base = {"Cookie": f"Authentication={cookie}", "Origin": EVIL}
    form = urllib.parse.urlencode({"query": INLINE}).encode()
    get = "/graphql?" + urllib.parse.urlencode({"query": INLINE})
    return {
        "form-post": (
            "POST",
            form,
            {**base, "Content-Type": "application/x-www-form-urlencoded"},
            "/graphql",
        ),
        "multipart": (
            "POST",
            b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            + INLINE.encode()
            + b"\r\n--x--\r\n",
            {**base, "Content-Type": "multipart/form-data; boundary=x"},
            "/graphql",
        ),
        "text-plain-json": (
            "POST",
            graphql_body(EXECUTE, JOB),
            {**base, "Content-Type": "text/plain"},
            "/graphql",
        ),
        "no-content-type": ("POST", graphql_body(EXECUTE, JOB), base, "/graphql"),
        "get-mutation": ("GET", None, base, get),
        "get-mutation-same-origin": (
            "GET",
            None,
            {**base, "Origin": f"http://127.0.0.1:{port}"},
            get,
        ),
        "json-foreign-origin": (
            "POST",
            graphql_body(EXECUTE, JOB),
            {**base, "Content-Type": "application/json"},
            "/graphql",
        ),
        "json-null-origin": (
            "POST",
            graphql_body(EXECUTE, JOB),
            {**base, "Origin": "null", "Content-Type": "application/json"},
            "/graphql",
        ),
    }


def test_forged_submissions_leave_nothing_behind(stack):
    # Given a logged-in victim whose browser holds the cookie
    victim = stack.user()
    cookie = victim.cookies["Authentication"]

    # When a hostile page makes the browser send each kind of forged request
    statuses = {}
    for name, (method, body, headers, path) in _forgeries(stack.jobs.port, cookie).items():
        response = raw_request(stack.jobs.port, method, path, body, headers)
        statuses[name] = (response.status, response.json.get("data"))

    # Then each is refused before it runs, and the database holds no job
    assert statuses == {
        "form-post": (415, None),
        "multipart": (415, None),
        "text-plain-json": (415, None),
        "no-content-type": (415, None),
        "get-mutation": (405, None),
        "get-mutation-same-origin": (405, None),
        "json-foreign-origin": (403, None),
        "json-null-origin": (403, None),
    }
    assert _tables(stack) == [0, 0, 0]
    # And the same cookie from the service's own origin does work (the probe is not vacuous)
    own = {"Origin": f"http://127.0.0.1:{stack.jobs.port}"}
    assert "errors" not in victim.post(EXECUTE, JOB, headers=own).json
    assert _tables(stack)[:2] == [1, 1]


def test_forged_logout_and_password_change_change_nothing(stack):
    victim = stack.user()
    cookie = victim.cookies["Authentication"]
    port = stack.auth.http_port
    change = json.dumps(
        {
            "query": "mutation { changePassword(changePasswordInput: "
            '{currentPassword: "S3cret!pass", newPassword: "Hijacked-1"}) }'
        }
    ).encode()
    headers = {"Cookie": f"Authentication={cookie}", "Origin": EVIL}

    logout = raw_request(
        port,
        "POST",
        body=b'{"query": "mutation { logout }"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    as_text = raw_request(
        port, "POST", body=change, headers={**headers, "Content-Type": "text/plain"}
    )
    as_json = raw_request(
        port, "POST", body=change, headers={**headers, "Content-Type": "application/json"}
    )

    assert (logout.status, as_text.status, as_json.status) == (403, 415, 403)
    still = Client(port, {"Authentication": cookie}).post("{ me { email } }")
    assert "errors" not in still.json  # not logged out: the token was not revoked
    # And the password is unchanged: the old one still logs in
    relogin = Client(port).post(
        "mutation ($i: LoginInput!) { login(loginInput: $i) { id } }",
        {"i": {"email": still.json["data"]["me"]["email"], "password": "S3cret!pass"}},
    )
    assert "errors" not in relogin.json

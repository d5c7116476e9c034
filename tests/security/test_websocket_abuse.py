"""GraphQL subscriptions over WebSocket, attacked: forged and revoked tokens, foreign origins,
oversized messages and floods before authenticating, and submissions over the socket.

tests/jobs_service/test_subscription_refusals.py covers the protocol's refusals one
by one; here the attacks a hostile client or page would try.
"""

from __future__ import annotations

import json

import pytest

from tests.auth.conftest import Client
from tests.security.test_forged_tokens import forgeries, victim_and_attacker
from tests.support.graphql_ws import GraphQLSocket

QUERY = "{ myJobs { nodes { id } } }"
SUBMIT = (
    'mutation { executeJob(executeJobInput: {name: "Fibonacci", data: {iterations: 1}}) { id } }'
)


@pytest.fixture
def database_url(tmp_path) -> str:
    """What is refused is decided before any query: SQLite alone."""
    return f"sqlite:///{tmp_path / 'workq.db'}"


@pytest.fixture
def guarded(make_stack):
    return make_stack(
        WORKQ_JOBS_AUTH_CACHE_S="0",  # a revocation takes effect at once
        WORKQ_SUBSCRIPTIONS_MAX_MESSAGE_BYTES="2048",
        WORKQ_SUBSCRIPTIONS_MAX_MESSAGES_PER_S="5",
        WORKQ_JOBS_QUOTA_ITEMS_WAITING="1",
        WORKQ_GRAPHQL_ALLOWED_ORIGINS="https://app.example",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _closed_at_init(port: int, payload: dict | None = None, **socket: object) -> tuple:
    with GraphQLSocket(port, **socket) as ws:  # type: ignore[arg-type]
        ws.send({"type": "connection_init", "payload": payload or {}})
        return ws.closed_with()


def test_forged_tokens_are_refused_at_connection_init(guarded):
    # Given an attacker with a valid token of their own, and a victim
    victim, mallory, valid = victim_and_attacker(guarded.auth.http_port)
    with GraphQLSocket(guarded.jobs.port) as ws:
        assert ws.init(_bearer(valid)) == {"type": "connection_ack"}  # the probe is not vacuous

    # When each forgery is sent in connection_init, as a bearer header and as a token field
    refused = {}
    for name, token in forgeries(mallory, victim, valid).items():
        for payload in (_bearer(token), {"token": token}):
            refused[name, next(iter(payload))] = _closed_at_init(guarded.jobs.port, payload)

    # Then every connection is closed before it can run anything
    wrong = {
        k: v for k, v in refused.items() if v != (4403, "Forbidden: the token was not accepted")
    }
    assert not wrong, wrong


def test_a_token_revoked_while_connected_runs_nothing_more(guarded):
    # Given a user connected with their token
    user = guarded.user()
    token = user.cookies["Authentication"]
    with GraphQLSocket(guarded.jobs.port) as ws:
        assert ws.init(_bearer(token)) == {"type": "connection_ack"}
        ws.subscribe("before", QUERY)
        assert "data" in ws.recv()["payload"]
        ws.recv()  # complete

        # When the user logs out (every token of theirs is revoked)
        at_auth = Client(guarded.auth.http_port, dict(user.cookies))
        assert at_auth.post("mutation { logout }").json == {"data": {"logout": True}}

        # Then the open connection's next operations are refused, a mutation too
        ws.subscribe("after", QUERY)
        ws.subscribe("submit", SUBMIT)
        answers = {m["id"]: m for m in (ws.recv(), ws.recv())}
    for op_id in ("after", "submit"):
        assert answers[op_id]["type"] == "error"
        assert answers[op_id]["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert guarded.count("jobs") == 0


def test_the_cookie_does_not_open_a_connection_from_a_foreign_page(guarded):
    # Given a logged-in browser (the cookie) on a page of another origin, or a sandboxed one
    user = guarded.user()
    origins = [
        "http://evil.example",
        "null",
        "http://127.0.0.1:1",  # same host, another port
        "https://app.example.evil.example",  # an allowed origin's look-alike
    ]

    closed = {
        o: _closed_at_init(guarded.jobs.port, cookies=user.cookies, origin=o) for o in origins
    }

    assert {o: code for o, (code, _) in closed.items()} == dict.fromkeys(origins, 4403)
    assert all("own origin" in reason for _, reason in closed.values())


def test_the_cookie_opens_a_connection_from_an_allowed_origin(guarded):
    user = guarded.user()
    with GraphQLSocket(guarded.jobs.port, cookies=user.cookies, origin="https://app.example") as ws:
        assert ws.init() == {"type": "connection_ack"}


def test_an_oversized_message_closes_the_connection_even_before_init(guarded):
    user = guarded.user()
    padding = "x" * 3000
    # before authenticating: nothing of it is parsed
    with GraphQLSocket(guarded.jobs.port) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"pad": padding}}))
        assert ws.closed_with() == (
            4400,
            "Invalid message received: over 2048 bytes (subscriptions.max_message_bytes)",
        )
    # after: an operation whose document is too large; bytes count, not characters
    with GraphQLSocket(guarded.jobs.port) as ws:
        ws.init(_bearer(user.cookies["Authentication"]))
        ws.subscribe("big", "{ jobs { name } } #" + "é" * 1100)
        code, reason = ws.closed_with()
    assert code == 4400 and "2048 bytes" in reason


def test_a_flood_before_init_closes_the_connection(guarded):
    with GraphQLSocket(guarded.jobs.port) as ws:
        sent = ws.flood({"type": "ping"}, 15)  # a burst of twice the rate, and more
        code, reason = ws.closed_with()
    assert code == 4429 and "subscriptions.max_messages_per_s" in reason
    assert sent > 5  # the close came after the rate was passed, not before


def test_submissions_over_the_socket_keep_to_the_quotas(guarded):
    user = guarded.user()
    with GraphQLSocket(guarded.jobs.port) as ws:
        ws.init(_bearer(user.cookies["Authentication"]))
        ws.subscribe("first", SUBMIT)
        assert "errors" not in ws.recv()["payload"]
        ws.recv()  # complete
        ws.subscribe("second", SUBMIT)
        refused = ws.recv()
    errors = refused["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert errors[0]["extensions"]["quota"] == "itemsWaiting"
    assert guarded.count("jobs") == 1

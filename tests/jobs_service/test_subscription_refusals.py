"""What the WebSocket endpoint refuses, and how it says so (graphql-transport-ws close codes)."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidStatus

from tests.jobs_service.conftest import submit
from tests.support.graphql_ws import GraphQLSocket

UPDATED = "subscription ($id: ID!) { jobUpdated(id: $id) { id status } }"
EVENTS = "subscription ($id: ID!, $after: String) { jobEvents(id: $id, after: $after) { kind } }"


@pytest.fixture
def database_url(tmp_path) -> str:
    """The protocol's refusals come before any query: SQLite alone (test_subscriptions has both)."""
    return f"sqlite:///{tmp_path / 'workq.db'}"


@pytest.fixture
def limited(make_stack):
    return make_stack(
        WORKQ_SUBSCRIPTIONS_MAX_PER_CONNECTION="2",
        WORKQ_SUBSCRIPTIONS_MAX_MESSAGES_PER_S="5",
        WORKQ_SUBSCRIPTIONS_INIT_TIMEOUT_S="0.5",
    )


def _bearer(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.cookies['Authentication']}"}


def test_the_handshake_refuses_what_the_protocol_does_not_allow(limited):
    port = limited.jobs.port
    client = limited.user()
    with GraphQLSocket(port, subprotocols=("graphql-ws",)) as socket:
        assert socket.closed_with() == (
            4406,
            "Subprotocol not acceptable; use graphql-transport-ws",
        )
    with GraphQLSocket(port) as socket:
        socket.send({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
        assert socket.closed_with() == (4403, "Forbidden: the token was not accepted")
    with GraphQLSocket(port) as socket:
        socket.send({"type": "connection_init"})
        code, reason = socket.closed_with()
        assert (code, reason.startswith("Forbidden: not authenticated")) == (4403, True)
    with GraphQLSocket(port) as socket:
        socket.subscribe("1", UPDATED, {"id": "x"})
        assert socket.closed_with() == (4401, "Unauthorized")
    with GraphQLSocket(port) as socket:
        time.sleep(0.7)
        assert socket.closed_with() == (4408, "Connection initialisation timeout")
    with GraphQLSocket(port) as socket:
        assert socket.init(_bearer(client)) == {"type": "connection_ack"}
        socket.send({"type": "connection_init"})
        assert socket.closed_with() == (4429, "Too many initialisation requests")


def test_messages_that_are_not_the_protocol_close_the_connection(limited):
    client = limited.user()
    cases = [
        ("{not json", (4400, "Invalid message received: not JSON")),
        ('{"type": "shout"}', (4400, "Invalid message received: unknown type 'shout'")),
        ("[1, 2]", (4400, "Invalid message received: expected an object with a type")),
        (
            '{"type": "subscribe", "payload": {}}',
            (4400, "Invalid message received: id must be 1 to 100 characters"),
        ),
    ]
    for text, closed in cases:
        with GraphQLSocket(limited.jobs.port) as socket:
            assert socket.init(_bearer(client)) == {"type": "connection_ack"}
            socket.send(text)
            assert socket.closed_with() == closed, text
    with GraphQLSocket(limited.jobs.port) as socket:
        socket.init(_bearer(client))
        socket.ws.send(b'{"type": "ping"}')
        assert socket.closed_with() == (4400, "Invalid message received: send text frames")
    with GraphQLSocket(limited.jobs.port) as socket:
        socket.init(_bearer(client))
        job_id = submit(client, "Echo", {"text": "x"})
        socket.subscribe("same", UPDATED, {"id": job_id})
        socket.subscribe("same", UPDATED, {"id": job_id})
        assert socket.closed_with() == (4409, "Subscriber for same already exists")


def test_only_the_owner_subscribes_and_bad_arguments_are_named(limited):
    owner, other = limited.user(), limited.user()
    job_id = submit(owner, "Echo", {"text": "x"})
    with GraphQLSocket(limited.jobs.port) as socket:
        socket.init(_bearer(other))
        socket.subscribe("theirs", UPDATED, {"id": job_id})
        assert socket.recv() == {
            "id": "theirs",
            "type": "error",
            "payload": [
                {
                    "message": "No such job.",
                    "path": ["jobUpdated"],
                    "extensions": {"code": "BAD_USER_INPUT", "field": "id"},
                }
            ],
        }
        socket.subscribe("cursor", EVENTS, {"id": job_id, "after": "zzz"})
        error = socket.recv()["payload"][0]
        assert error["message"] == "after is not an event cursor this API returned."
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
        socket.subscribe("bad", "subscription { jobUpdated { id } }")
        error = socket.recv()["payload"][0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        # a query works over the socket too: one result, then complete
        socket.subscribe("q", "{ jobs { name } }")
        assert socket.recv()["payload"]["data"]["jobs"]
        assert socket.recv() == {"id": "q", "type": "complete"}
        socket.send({"type": "ping"})
        assert socket.recv() == {"type": "pong"}


def test_subscriptions_and_messages_are_limited_per_connection(limited):
    client = limited.user()
    job_id = submit(client, "Echo", {"text": "x"})
    with GraphQLSocket(limited.jobs.port) as socket:
        socket.init(_bearer(client))
        socket.subscribe("1", EVENTS, {"id": job_id})
        socket.subscribe("2", EVENTS, {"id": job_id})
        socket.subscribe("3", EVENTS, {"id": job_id})
        assert socket.recv()["payload"] == [
            {
                "message": "Too many subscriptions on this connection: at most 2"
                " (subscriptions.max_per_connection).",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
        socket.send({"id": "1", "type": "complete"})
        socket.subscribe("4", EVENTS, {"id": job_id})
        time.sleep(1.0)  # the bucket refills: these stay within the rate
        for _ in range(12):
            socket.send({"type": "ping"})
        assert socket.closed_with() == (
            4429,
            "Too many messages: at most 5 per second (subscriptions.max_messages_per_s)",
        )


def test_the_cookie_authenticates_only_pages_of_this_origin(limited):
    client = limited.user()
    port = limited.jobs.port
    own = f"http://127.0.0.1:{port}"
    with GraphQLSocket(port, cookies=client.cookies, origin=own) as socket:
        assert socket.init() == {"type": "connection_ack"}
    with GraphQLSocket(port, cookies=client.cookies, origin="http://evil.example") as socket:
        socket.send({"type": "connection_init"})
        code, reason = socket.closed_with()
        assert code == 4403 and "own origin" in reason
    # the token in the payload is not the cookie: any origin may use it
    with GraphQLSocket(port, origin="http://elsewhere.example") as socket:
        assert socket.init(_bearer(client)) == {"type": "connection_ack"}


def test_the_auth_service_has_no_websocket(limited):
    with pytest.raises(InvalidStatus):
        GraphQLSocket(limited.auth.http_port)

"""Subscriptions for both clients: the graphql-transport-ws conversation, without the I/O.

``Client`` and ``AsyncClient`` only move the texts; a ``Conversation`` says
what to send and what each message from the server means (a payload, the
end, or a typed error), so the two cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from workq.errors import Unauthenticated, Unavailable, WorkqClientError, from_graphql
from workq.operations import JOB
from workq.values import ItemEvent

PROTOCOL = Subprotocol("graphql-transport-ws")
WATCH = f"subscription Watch($id: ID!) {{ jobUpdated(id: $id) {{ {JOB} }} }}"
EVENTS = f"""subscription Events($id: ID!, $after: String) {{
  jobEvents(id: $id, after: $after) {{ {ItemEvent.SELECTION} }} }}"""
# Close codes that mean "try again later" rather than "you asked for something wrong".
_TRANSIENT = {1001, 1006, 1011, 1012, 1013, 4500}


def socket_url(jobs_url: str) -> str:
    """The WebSocket URL of a jobs service's GraphQL URL (same path, ws or wss)."""
    if jobs_url.startswith("https://"):
        return "wss://" + jobs_url[len("https://") :]
    if jobs_url.startswith("http://"):
        return "ws://" + jobs_url[len("http://") :]
    return jobs_url


@dataclass(frozen=True)
class Reply:
    """What one server message means: text to send back, a payload, or the end."""

    send: str | None = None
    data: dict[str, Any] | None = None
    done: bool = False


@dataclass
class Conversation:
    """One subscription on its own connection: init, wait for the ack, subscribe, read."""

    url: str
    token: str | None
    document: str
    variables: dict[str, Any]
    job_id: str
    acked: bool = field(default=False, init=False)

    def opening(self) -> str:
        payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return json.dumps({"type": "connection_init", "payload": payload})

    def receive(self, text: str | bytes) -> Reply:
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, TypeError, KeyError):
            raise WorkqClientError(
                f"{self.url} sent a message that is not the protocol's", url=self.url
            ) from None
        if kind == "connection_ack":
            self.acked = True
            body = {"query": self.document, "variables": self.variables}
            return Reply(send=json.dumps({"id": "1", "type": "subscribe", "payload": body}))
        if kind == "ping":
            return Reply(send=json.dumps({"type": "pong"}))
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                raise from_graphql(payload["errors"][0], self.url, self.job_id)
            return Reply(data=payload.get("data") or {})
        if kind == "error":
            errors = message.get("payload") or [{}]
            raise from_graphql(errors[0], self.url, self.job_id)
        if kind == "complete":
            return Reply(done=True)
        return Reply()  # pong, or a type a newer server may send

    def closed(self, closed: ConnectionClosed) -> WorkqClientError:
        """The error a close before the end means."""
        code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
        what = f"{self.url} closed the subscription ({code}{': ' + reason if reason else ''})"
        if code == 4403 or code == 4401:
            return Unauthenticated(what, url=self.url)
        if code is None or code in _TRANSIENT or (code == 1000 and self.acked):
            return Unavailable(what, url=self.url)
        return WorkqClientError(what, url=self.url)


@dataclass
class Resume:
    """Where an ``events`` iteration is, and whether a dropped connection may open again."""

    job_id: str
    after: str | None
    reconnects: int
    failures: int = 0

    def variables(self) -> dict[str, Any]:
        return {"id": self.job_id, "after": self.after}

    def seen(self, data: dict[str, Any]) -> ItemEvent:
        event = ItemEvent.from_dict(data["jobEvents"])
        self.after, self.failures = event.cursor, 0
        return event

    def pause_after(self, error: Unavailable) -> float:
        """Seconds before opening again (0.4, 0.8 ... at most 5); ``error`` once used up."""
        self.failures += 1
        if self.failures > self.reconnects:
            raise error
        return min(0.2 * 2**self.failures, 5.0)


def not_served(url: str, reason: str) -> Unavailable:
    """No WebSocket at ``url`` (an older server, or a proxy that does not pass upgrades)."""
    return Unavailable(f"{url} does not accept subscriptions ({reason})", url=url)

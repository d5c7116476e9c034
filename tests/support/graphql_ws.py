"""A small graphql-transport-ws client over ``websockets``, for tests that speak the protocol."""

from __future__ import annotations

import json
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class GraphQLSocket:
    """One WebSocket to ``/graphql``; ``recv`` returns each server message as a dict."""

    def __init__(
        self,
        port: int,
        *,
        cookies: dict[str, str] | None = None,
        origin: str | None = None,
        subprotocols: tuple[str, ...] = (PROTOCOL,),
    ) -> None:
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.ws: ClientConnection = connect(  # entered at once: a test holds it open
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            open_timeout=10,
        ).__enter__()

    def send(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def flood(self, message: dict[str, Any], count: int) -> int:
        """Send ``message`` up to ``count`` times, stopping when the server closes; how many went.

        A server that closes mid-burst makes the next send raise, which is the behaviour under
        test, not a failure of it: the close frame is still there for ``closed_with``.
        """
        for sent in range(count):
            try:
                self.send(message)
            except ConnectionClosed:
                return sent
        return count

    def recv(self, timeout_s: float = 15) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout_s))

    def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        self.send({"type": "connection_init", "payload": payload or {}})
        return self.recv()

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    def until(self, op_id: str, predicate: Any, timeout_s: float = 30) -> list[dict[str, Any]]:
        """Messages of ``op_id`` received until one satisfies ``predicate`` (that one included)."""
        seen = []
        while True:
            message = self.recv(timeout_s)
            if message.get("id") != op_id:
                continue
            seen.append(message)
            if predicate(message):
                return seen

    def closed_with(self, timeout_s: float = 15) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        try:
            while True:
                self.ws.recv(timeout=timeout_s)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame else (None, "")

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> GraphQLSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

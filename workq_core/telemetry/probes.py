"""Readiness checks: can this service reach what it needs (database, broker, auth service)?"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

Check = Callable[[], None]  # returns when ready, raises with the reason when not


@dataclass(frozen=True)
class Probe:
    """One named readiness check, as ``/readyz`` reports it."""

    name: str
    check: Check


def database_probe(db: peewee.Database) -> Probe:
    """``SELECT 1`` on a connection of its own thread, returned (or dropped if broken) after."""

    def check() -> None:
        with db.connection_context():
            db.execute_sql("SELECT 1")

    return Probe("database", check)


def broker_probe(transport: Any) -> Probe:
    """The transport's ``check_ready()``; a transport without one is taken as ready.

    ``check_ready`` is optional in the Transport protocol so that existing
    third-party transports keep working; docs/plugins.md describes it.
    """

    def check() -> None:
        ready = getattr(transport, "check_ready", None)
        if ready is not None:
            ready()

    return Probe("broker", check)


def auth_probe(client: Any) -> Probe:
    """The auth service's gRPC channel connects (``AuthClient.check_ready``)."""
    return Probe("auth", client.check_ready)


def tcp_reachable(host: str, port: int, timeout_s: float) -> None:
    """Open and close a TCP connection; OSError says why not."""
    with socket.create_connection((host, port), timeout=timeout_s):
        pass

"""A deadline on every PostgreSQL round trip, so a link that stops answering fails, not hangs.

Once libpq has sent a statement it waits for the answer without limit. TCP
keepalives and ``tcp_user_timeout`` only notice a peer that stops
acknowledging; a server that is frozen, or a proxy or NAT that stalls, keeps
acknowledging and never answers, and every thread that touches the database
hangs with it (the fault proxy's stall showed the jobs service's requests
hanging past any client's patience). psycopg2's wait callback runs each libpq
operation non-blocking and leaves the waiting to us: past the deadline the
callback raises, psycopg2 closes that connection (the pool then discards it,
it is never handed out half-used), and the caller gets an ``OperationalError``
that ``database_errors`` reports as ``Unavailable``.

psycopg2 keeps one wait callback per process, so the deadline is per process
too: the latest ``install`` (each PostgreSQL ``connect``) sets it, and the
services pass ``database.timeout_s``.
"""

from __future__ import annotations

import select
import time

import psycopg2
from psycopg2 import extensions

_deadline_s = 0.0


def install(timeout_s: float) -> None:
    """Give every PostgreSQL operation of this process at most ``timeout_s`` (0: no limit)."""
    global _deadline_s
    _deadline_s = timeout_s
    extensions.set_wait_callback(_wait if timeout_s > 0 else None)


def _wait(conn: extensions.connection) -> None:
    """Drive one libpq operation to its end, or raise once ``_deadline_s`` has passed."""
    limit_s = _deadline_s
    deadline = time.monotonic() + limit_s
    poller = select.poll()  # not select.select: no FD_SETSIZE limit on busy processes
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        events = {extensions.POLL_READ: select.POLLIN, extensions.POLL_WRITE: select.POLLOUT}
        if state not in events:
            raise psycopg2.OperationalError(f"unexpected libpq poll state {state}")
        poller.register(conn.fileno(), events[state])
        remaining_ms = (deadline - time.monotonic()) * 1000
        if remaining_ms <= 0 or not poller.poll(remaining_ms):
            raise psycopg2.OperationalError(
                f"no answer from the database server within {limit_s:g} s (database.timeout_s)"
            )
        poller.unregister(conn.fileno())

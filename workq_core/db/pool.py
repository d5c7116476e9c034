"""The PostgreSQL connection pool: check a connection's health only when it sat idle a while.

peewee's pool validates every connection it hands out with a ``SELECT 1``
round trip, and does it inside the locks that every thread's check-out and
check-in take. Under concurrent requests that serialised the whole process
on one round trip per request: profiling the jobs service under 8 clients
put a fifth of its samples in waiting for those locks (docs/benchmarks.md).

A connection returned to the pool moments ago is as alive as the statement
it just ran showed, so, like HikariCP (``aliveBypassWindowMs``, 500 ms),
the round trip is skipped for a connection idle less than
:data:`VALIDATE_AFTER_IDLE_S` whose transaction state is clean. What that
gives up: a server that went away within that half second is noticed by the
next statement instead of at check-out; that statement fails with an
``OperationalError`` (``Unavailable`` at the API), psycopg2 marks the
connection closed and the pool discards it, as it does for any connection
that breaks mid-use.
"""

from __future__ import annotations

import time
from typing import Any

from playhouse.pool import PooledPostgresqlDatabase
from psycopg2 import extensions

VALIDATE_AFTER_IDLE_S = 0.5


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, validating only connections idle past the bypass window."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._returned_at: dict[int, float] = {}  # conn_key -> monotonic time of check-in

    def _is_closed(self, conn: Any) -> bool:
        returned_at = self._returned_at.pop(self.conn_key(conn), None)
        fresh = returned_at is not None and time.monotonic() - returned_at < VALIDATE_AFTER_IDLE_S
        idle = conn.info.transaction_status == extensions.TRANSACTION_STATUS_IDLE
        if fresh and idle and not conn.closed:
            return False
        return bool(super()._is_closed(conn))

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        if not close_conn:
            self._returned_at[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn: Any) -> None:
        self._returned_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

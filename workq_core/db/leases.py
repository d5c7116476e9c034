"""A database lease: at most one live holder of a named duty across every replica.

Work that must run in one process at a time (firing schedules, purging old
jobs) is guarded by a row in ``leases``. A holder takes the lease when it is
free or expired and keeps it by renewing before ``ttl_ms`` runs out; if it
dies, another replica takes over once the lease expires, so the takeover
delay is at most ``ttl_ms``. Holding is decided by one conditional write, so
two replicas racing for a free lease cannot both win, on SQLite or
PostgreSQL. A holder must renew well within the TTL and treat a failed
renewal as having lost the duty: after a long pause (GC, SIGSTOP) another
replica may already hold it.
"""

from __future__ import annotations

import peewee

from workq_core.db.sql import now_ms, run, write_transaction

_TAKE_SQL = (
    "UPDATE leases SET holder = ?, expires_at = ?"
    " WHERE name = ? AND (holder = ? OR expires_at <= ?)"
)
_CREATE_SQL = (
    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING"
)
_RELEASE_SQL = "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?"


def acquire(db: peewee.Database, name: str, holder: str, ttl_ms: int) -> bool:
    """Take or renew lease ``name`` for ``holder`` until ``ttl_ms`` from now; True if held.

    Renewing is acquiring again: the same call keeps a lease its holder
    already has, and takes one that is free or has expired.
    """
    if ttl_ms <= 0:
        raise ValueError(f"lease ttl_ms must be positive, got {ttl_ms}")
    now = now_ms()
    with write_transaction(db):
        if run(db, _TAKE_SQL, (holder, now + ttl_ms, name, holder, now)).rowcount == 1:
            return True
        return run(db, _CREATE_SQL, (name, holder, now + ttl_ms)).rowcount == 1


def release(db: peewee.Database, name: str, holder: str) -> None:
    """Give the lease up at once (clean shutdown), so another replica need not wait out the TTL."""
    with write_transaction(db):
        run(db, _RELEASE_SQL, (name, holder))

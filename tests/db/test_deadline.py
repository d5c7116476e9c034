"""PostgreSQL behind a fault proxy: a stalled link fails within ``database.timeout_s``,
a dropped one leaves nothing half-written, and the same database object recovers once healed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import peewee
import pytest

from tests.support.fault_proxy import RST, FaultProxy
from workq_core import Unavailable
from workq_core.db import connect, database_errors

TIMEOUT_S = 1.0


@pytest.fixture
def proxied(pg_server) -> Iterator[tuple[peewee.Database, FaultProxy]]:
    """A pooled database on a fresh PostgreSQL database, reached through a fault proxy."""
    name = pg_server.create_database("workq_deadline")
    proxy = FaultProxy((pg_server.host, pg_server.port)).start()
    url = dataclasses.replace(pg_server, host="127.0.0.1", port=proxy.port).url(name)
    db = connect(url, timeout_s=TIMEOUT_S)
    db.execute_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    db.close()
    yield db, proxy
    proxy.stop()
    db.close_all()
    connect(url)  # the process-wide deadline back to the default for later tests
    pg_server.drop_database(name)


def rows(db: peewee.Database) -> list[int]:
    try:
        return [n for (n,) in db.execute_sql("SELECT n FROM t ORDER BY n").fetchall()]
    finally:
        db.close()


@pytest.mark.timeout(60)
def test_a_stalled_link_fails_within_the_deadline_then_recovers(proxied):
    db, proxy = proxied
    db.connect()
    before = db.connection()
    # When the link stalls under an open transaction, a statement fails instead of hanging
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(Unavailable), database_errors(), db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
    assert time.monotonic() - started >= TIMEOUT_S * 0.9  # it waited for the deadline
    db.close()  # the broken connection leaves the pool
    # and so does opening a new connection while the link stays stalled
    with pytest.raises(peewee.OperationalError, match=r"within 1 s \(database\.timeout_s\)"):
        db.connect()
    # Then, healed, the same database object works on a new connection
    proxy.heal()
    db.connect()
    assert db.connection() is not before
    db.close()
    # and the transaction cut short never commits (its statements reach the server late,
    # without a COMMIT; a lone statement outside a transaction might: its outcome is unknown)
    assert rows(db) == []


@pytest.mark.timeout(60)
def test_a_connection_dropped_mid_transaction_commits_nothing_and_the_pool_recovers(proxied):
    db, proxy = proxied
    # Given a transaction that wrote a row and has not committed
    with pytest.raises(Unavailable), database_errors(), db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        # When every connection is reset before the commit
        assert proxy.drop(RST) >= 1
        db.execute_sql("INSERT INTO t VALUES (2)")
    db.close()
    # Then nothing of it was committed, and the next transaction works
    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (3)")
    db.close()
    assert rows(db) == [3]

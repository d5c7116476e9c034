"""The PostgreSQL pool checks a connection's health at check-out only after it sat idle a while.

A backend ended by the server stands in for any connection that died in the
pool (server restart, a proxy dropping it): the tests see whether check-out
noticed, or the next statement did.
"""

from __future__ import annotations

import time

import peewee
import psycopg2
import pytest

from workq_core.db import connect
from workq_core.db.pool import VALIDATE_AFTER_IDLE_S


@pytest.fixture
def pool(postgres_session_url):
    db = connect(postgres_session_url)
    yield db
    db.close_all()


def _backend_pid(db: peewee.Database) -> int:
    with db.connection_context():
        return int(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])


def _terminate(url: str, pid: int) -> None:
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # the backend is gone once the server no longer lists it
        for _ in range(100):
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.02)
    admin.close()


def test_a_connection_idle_past_the_window_is_checked_and_replaced(pool, postgres_session_url):
    dead = _backend_pid(pool)
    _terminate(postgres_session_url, dead)
    time.sleep(VALIDATE_AFTER_IDLE_S + 0.2)

    # check-out finds it dead and hands out a new one: the statement just works
    assert _backend_pid(pool) != dead


def test_a_connection_just_returned_is_handed_out_unchecked_and_discarded_when_it_fails(
    pool, postgres_session_url
):
    dead = _backend_pid(pool)
    _terminate(postgres_session_url, dead)

    # within the window there is no check-out round trip: the statement meets the dead link
    with pytest.raises(peewee.OperationalError), pool.connection_context():
        pool.execute_sql("SELECT 1")
    # and the pool does not hand that connection out again
    assert _backend_pid(pool) != dead


def test_a_returned_connection_is_reused(pool):
    assert _backend_pid(pool) == _backend_pid(pool)
    time.sleep(VALIDATE_AFTER_IDLE_S + 0.1)
    assert _backend_pid(pool) == _backend_pid(pool)  # checked, alive, kept

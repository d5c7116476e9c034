"""Named database leases: one live holder, renewal, takeover after expiry, release."""

from __future__ import annotations

import threading
import time

import pytest

from workq_core.db import connect, migrate
from workq_core.db.leases import acquire, release


@pytest.fixture
def migrated(db):
    migrate(db)
    with db.connection_context():
        yield db


def test_a_free_lease_is_taken_and_then_refused_to_another_holder(migrated):
    assert acquire(migrated, "scheduler", "a", 60_000) is True
    assert acquire(migrated, "scheduler", "b", 60_000) is False
    assert acquire(migrated, "retention", "b", 60_000) is True  # names are independent


def test_the_holder_renews_its_lease(migrated):
    assert acquire(migrated, "scheduler", "a", 60_000)
    assert acquire(migrated, "scheduler", "a", 60_000) is True
    assert acquire(migrated, "scheduler", "b", 60_000) is False


def test_an_expired_lease_is_taken_over_and_the_old_holder_loses_it(migrated):
    assert acquire(migrated, "scheduler", "a", 50)
    time.sleep(0.1)

    assert acquire(migrated, "scheduler", "b", 60_000) is True
    assert acquire(migrated, "scheduler", "a", 60_000) is False


def test_release_frees_the_lease_at_once_but_only_for_its_holder(migrated):
    acquire(migrated, "scheduler", "a", 60_000)

    release(migrated, "scheduler", "b")  # not the holder: no effect
    assert acquire(migrated, "scheduler", "b", 60_000) is False

    release(migrated, "scheduler", "a")
    assert acquire(migrated, "scheduler", "b", 60_000) is True


def test_a_ttl_that_is_not_positive_is_refused(migrated):
    with pytest.raises(ValueError, match="ttl_ms must be positive, got 0"):
        acquire(migrated, "scheduler", "a", 0)


def _race(database, name: str, holders: int) -> list[str]:
    won: list[str] = []
    barrier = threading.Barrier(holders)

    def take(holder: str) -> None:
        with database.connection_context():
            barrier.wait()
            if acquire(database, name, holder, 60_000):
                won.append(holder)

    threads = [threading.Thread(target=take, args=(f"h{n}",)) for n in range(holders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


def test_holders_racing_for_a_free_lease_yield_exactly_one_winner(database_url):
    """Eight connections race for a lease no row exists for yet: one wins, each round."""
    database = connect(database_url)
    migrate(database)
    winners = [_race(database, f"race-{n}", 8) for n in range(3)]
    if hasattr(database, "close_all"):
        database.close_all()

    assert [len(won) for won in winners] == [1, 1, 1]

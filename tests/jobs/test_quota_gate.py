"""The quota gate against real databases: reservations ahead, two replicas on one row, the
minute window, refunds; with a clock the tests move (the usage is per clock minute)."""

from __future__ import annotations

import pytest

from workq_core.config.sections import JobsSettings
from workq_core.db import migrate
from workq_core.db.sql import rows, run
from workq_core.errors import QuotaExceeded
from workq_core.jobs.quotas import MINUTE_MS, QuotaGate

START = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE_MS + 1_000  # just inside a minute


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def migrated(db):
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')")
        yield db


def _row(db) -> dict:
    return rows(db, "SELECT window_items, waiting_bound FROM user_quotas WHERE user_id = 1")[0]


def _gate(db, clock, per_minute: int, waiting: int = 0) -> QuotaGate:
    settings = JobsSettings(quota_items_per_minute=per_minute, quota_items_waiting=waiting)
    return QuotaGate(db, settings, clock=clock)


def _spend(gate: QuotaGate, items: int = 1) -> bool:
    try:
        gate.charge(1, items).keep = True
    except QuotaExceeded:
        return False
    return True


def test_most_submissions_are_spent_from_a_reservation_charged_ahead(migrated):
    # Given a per-minute quota of 10,000: a gate reserves 1% (100 items) ahead
    gate = _gate(migrated, Clock(), per_minute=10_000)

    # When 101 single items are submitted
    for _ in range(101):
        assert _spend(gate)

    # Then the row was charged twice: the first item exactly, then 1 + 100 ahead
    assert _row(migrated) == {"window_items": 102, "waiting_bound": 102}


def test_two_replicas_never_pass_the_per_minute_quota_together(migrated):
    clock = Clock()
    replicas = [_gate(migrated, clock, per_minute=1_000), _gate(migrated, clock, per_minute=1_000)]

    accepted = 0
    for n in range(1_200):
        accepted += _spend(replicas[n % 2])

    # every item was charged to the row before it was spent; unspent reservations
    # of the other replica (10 items each) only refuse a little early
    assert 1_000 - 2 * 10 <= accepted <= 1_000
    assert _row(migrated)["window_items"] <= 1_000


def test_a_refund_goes_back_to_the_reservation_and_a_new_minute_starts_afresh(migrated):
    clock = Clock()
    gate = _gate(migrated, clock, per_minute=10_000)
    assert _spend(gate) and _spend(gate)  # the row: 1, then 1 + 100 ahead
    charged = _row(migrated)

    with gate.charged(1, 5):  # not kept: the submission was not stored
        pass

    assert _row(migrated) == charged  # given back to the reservation, not the row
    clock.now += MINUTE_MS  # the next minute: the reservation is void
    assert _spend(gate)
    assert _row(migrated)["window_items"] == 1 + 100


def test_small_quotas_are_charged_exactly_and_refuse_with_the_time_left(migrated):
    clock = Clock()
    gate = _gate(migrated, clock, per_minute=50)
    assert _spend(gate, 30) and _spend(gate, 20)
    clock.now += 15_000

    with pytest.raises(QuotaExceeded) as refused:
        gate.charge(1, 1)

    assert (refused.value.quota, refused.value.limit) == ("itemsPerMinute", 50)
    assert refused.value.retry_after_s == 44  # 60 - 1 - 15 seconds of the minute left
    assert _row(migrated)["window_items"] == 50


def test_unlimited_defaults_touch_no_row(migrated):
    gate = _gate(migrated, Clock(), per_minute=0, waiting=0)

    assert _spend(gate, 1_000_000)
    assert rows(migrated, "SELECT * FROM user_quotas") == []

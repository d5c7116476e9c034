"""The database login limiter on each engine, with a clock the test moves: the window slides,
the time to wait is exact, a success gives its attempt back, expired rows are pruned."""

from __future__ import annotations

import pytest

from workq_core.auth.ratelimit import PRUNE_EVERY_MS, LoginLimiter
from workq_core.db import migrate
from workq_core.db.sql import rows
from workq_core.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def limiter(db):
    migrate(db)
    clock = Clock()
    with db.connection_context():
        yield LoginLimiter(db, max_attempts=2, window_s=60, clock=clock), clock


def _stored(limiter: LoginLimiter) -> int:
    return int(rows(limiter.db, "SELECT COUNT(*) AS n FROM login_attempts")[0]["n"])


def test_the_window_slides_and_the_wait_is_until_the_oldest_attempt_expires(limiter):
    limiter, clock = limiter
    limiter.attempt(["email:a"])
    clock.now += 20_000
    limiter.attempt(["email:a"])
    clock.now += 10_500

    with pytest.raises(RateLimited) as refused:
        limiter.attempt(["email:a", "addr:1"])

    assert refused.value.retry_after_s == 30  # 60 s after the first attempt, rounded up
    assert "try again in 30 s" in refused.value.message
    assert _stored(limiter) == 2  # the refused attempt counted against neither key
    clock.now += 30_000
    limiter.attempt(["email:a"])  # the first attempt left the window


def test_a_success_gives_its_attempts_back(limiter):
    limiter, _clock = limiter
    counted = limiter.attempt(["email:a", "addr:1"])
    limiter.succeeded(counted)
    limiter.attempt(["email:a"])
    limiter.attempt(["email:a"])  # two failures still fit: the success used none

    with pytest.raises(RateLimited):
        limiter.attempt(["email:a"])


def test_expired_attempts_of_keys_never_tried_again_are_pruned(limiter):
    limiter, clock = limiter
    for n in range(5):
        limiter.attempt([f"addr:{n}"])
    clock.now += PRUNE_EVERY_MS + 60_000

    limiter.attempt(["addr:new"])

    assert _stored(limiter) == 1

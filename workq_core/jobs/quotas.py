"""Per-user submission quotas: items per clock minute and items not yet finished.

So that one account cannot fill the queue for everyone. A submission is
charged before it is stored and refunded if it is not stored (an error, or
an idempotent repeat that returns the earlier job); a refused one writes
nothing. The usage lives in ``user_quotas`` (``workq_core.jobs.quota_usage``),
shared by every jobs replica.

Schedules' runs are charged to their owner like submissions, but exactly
(``reserve=False``): in the transaction that stores the run, so that its
rollback undoes the charge too.

Cost on the hot path: a jobs process charges a user's row ahead, for up to
1% of the user's smaller quota (at most ``RESERVE_MAX`` items), and spends
that reservation in memory; so most submissions touch no row at all. Every
item is charged to the row before it is spent, so the per-minute quota is
never passed; another replica's unspent reservation can only refuse a user
a little early (by at most that much per jobs process). Small quotas (under
100) reserve nothing: every submission is charged exactly.

Items waiting are kept as an upper bound: the exact count when it was last
taken plus every item charged since (items only leave that state, when they
finish). Only a submission the bound would refuse pays for the exact count,
at most once per ``RECOUNT_EVERY_MS`` per user; a refusal after it is exact.
The count does not see what replicas have reserved and not yet spent, so
after it the waiting quota can be passed by those reservations; and
submissions racing the count by their own sizes.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.config.sections import JobsSettings
from workq_core.db.sql import now_ms
from workq_core.errors import QuotaExceeded
from workq_core.jobs import quota_usage
from workq_core.jobs.quota_usage import Limits

MINUTE_MS = 60_000
RECOUNT_EVERY_MS = 1_000
RESERVE_FRACTION = 100  # reserve 1/100 of the smaller quota ahead
RESERVE_MAX = 1_000
MAX_TRACKED_USERS = 10_000
OVERRIDES_CHECK_S = 1.0
PER_MINUTE = "itemsPerMinute"
WAITING = "itemsWaiting"


@dataclass
class Charge:
    """What one submission was charged; refunded unless ``keep`` is set (it was stored)."""

    user_id: int
    items: int
    window_start: int
    keep: bool = False
    exact: bool = False  # charged to the row only: refunded to the row


@dataclass
class _Reserved:
    """Items charged to a user's row in ``window`` and not yet spent by this process."""

    window: int
    items: int
    ahead: int  # how many to reserve at the next charge of the row


class QuotaGate:
    """The quota check of one jobs process: ``with gate.charged(user_id, n) as spent: ...``."""

    def __init__(
        self, db: peewee.Database, settings: JobsSettings, clock: Callable[[], int] = now_ms
    ) -> None:
        self.db = db
        self._clock = clock
        self.defaults = (settings.quota_items_per_minute, settings.quota_items_waiting)
        self._reserved: dict[int, _Reserved] = {}
        self._lock = threading.Lock()
        self._overrides_seen: tuple[float, bool] = (-math.inf, True)

    @contextlib.contextmanager
    def charged(self, user_id: int, items: int, *, reserve: bool = True) -> Iterator[Charge]:
        """Charge ``items`` around storing a submission; set ``keep`` once it is stored.

        Raises QuotaExceeded (nothing charged, nothing runs) when a quota would
        be exceeded; refunds the charge when the block raises or leaves ``keep``
        unset.

        ``reserve=False`` is for a caller that stores the submission in a
        transaction it may still roll back (the scheduler fires runs in one):
        the charge and its refund are then statements on the user's row in that
        transaction, never this process's in-memory reservation, so a rollback
        takes the charge back together with the run and leaves nothing in
        memory spent or charged that the row does not count.
        """
        spent = self.charge(user_id, items, reserve=reserve)
        try:
            yield spent
        finally:
            if not spent.keep:
                self.refund(spent)

    def charge(self, user_id: int, items: int, *, reserve: bool = True) -> Charge:
        """Count ``items`` against the user's quotas, or raise QuotaExceeded counting nothing.

        ``reserve=False``: charge the row exactly, neither spending nor adding to
        this process's reservation (see ``charged``).
        """
        now = self._clock()
        window = now - now % MINUTE_MS
        if self.defaults == (0, 0) and not self._any_overrides():
            return Charge(user_id, 0, window)
        ahead = self._spend_reserved(user_id, items, window) if reserve else 0
        if ahead is None:
            return Charge(user_id, items, window)
        if ahead and self._charge_row(user_id, items, ahead, window):
            return Charge(user_id, items, window)
        for _ in range(3):  # a missing row, then a recount, may each need one more try
            if self._charge_row(user_id, items, 0, window):
                return Charge(user_id, items, window, exact=not reserve)
            found = quota_usage.usage(self.db, user_id, self.defaults)
            if found is None:
                quota_usage.create(self.db, user_id)
                continue
            _refuse_per_minute(found, items, window, now)
            if found["waiting_counted_at"] > now - RECOUNT_EVERY_MS:
                break
            quota_usage.recount(self.db, user_id, now, RECOUNT_EVERY_MS)
        raise _waiting_exceeded(quota_usage.usage(self.db, user_id, self.defaults), items)

    def refund(self, spent: Charge) -> None:
        """Give back a charge whose submission was not stored: to this process's reservation
        while its minute lasts (the row already counts it), else (or if ``exact``) to the row."""
        if spent.items == 0:
            return
        if not spent.exact:
            with self._lock:
                held = self._reserved.get(spent.user_id)
                if held is not None and held.window == spent.window_start:
                    held.items += spent.items
                    return
        quota_usage.refund(self.db, spent.user_id, spent.items, spent.window_start)

    def _spend_reserved(self, user_id: int, items: int, window: int) -> int | None:
        """None when this process's reservation covered ``items``; else how many to reserve
        ahead at the next charge of the row."""
        with self._lock:
            held = self._reserved.get(user_id)
            if held is None:
                return 0
            if held.window == window and held.items >= items:
                held.items -= items
                return None
            return held.ahead

    def _charge_row(self, user_id: int, items: int, ahead: int, window: int) -> bool:
        """Charge ``items`` plus ``ahead`` to the row; the reservation keeps ``ahead``."""
        limits = quota_usage.charge(self.db, user_id, items + ahead, window, self.defaults)
        if limits is None:
            return False
        with self._lock:
            held = self._reserved.get(user_id)
            kept = held.items if held is not None and held.window == window else 0
            if held is None and len(self._reserved) >= MAX_TRACKED_USERS:
                self._forget_before(window)
            self._reserved[user_id] = _Reserved(window, kept + ahead, _ahead(limits))
        return True

    def _forget_before(self, window: int) -> None:
        """Drop reservations of past minutes (their items stay charged to the rows)."""
        for user_id in [u for u, held in self._reserved.items() if held.window != window]:
            del self._reserved[user_id]

    def _any_overrides(self) -> bool:
        """With unlimited defaults, only a user's own quota needs a charge; asked once a second."""
        checked_at, found = self._overrides_seen
        if time.monotonic() - checked_at > OVERRIDES_CHECK_S:
            found = quota_usage.has_overrides(self.db)
            self._overrides_seen = (time.monotonic(), found)
        return found


def _ahead(limits: Limits) -> int:
    """How many items to reserve ahead for a user with ``limits``: 1% of the smaller quota."""
    finite = [limit for limit in (limits.per_minute, limits.waiting) if limit > 0]
    return min(RESERVE_MAX, min(finite) // RESERVE_FRACTION) if finite else RESERVE_MAX


def _refuse_per_minute(usage: dict[str, Any], items: int, window: int, now: int) -> None:
    limit = int(usage["per_minute"])
    used = int(usage["window_items"]) if usage["window_start"] == window else 0
    if limit == 0 or used + items <= limit:
        return
    retry_after_s = max(1, math.ceil((window + MINUTE_MS - now) / 1000))
    if items > limit:
        message = (
            f"Quota itemsPerMinute exceeded: a job of {items} items is more than the"
            f" {limit} items you may submit per minute; submit it in smaller jobs."
        )
    else:
        message = (
            f"Quota itemsPerMinute exceeded: {used} of your {limit} items this minute are"
            f" used, {items} more do not fit; try again in {retry_after_s} s."
        )
    raise QuotaExceeded(message, quota=PER_MINUTE, limit=limit, retry_after_s=retry_after_s)


def _waiting_exceeded(usage: dict[str, Any] | None, items: int) -> QuotaExceeded:
    assert usage is not None
    limit, waiting = int(usage["waiting"]), int(usage["waiting_bound"])
    return QuotaExceeded(
        f"Quota itemsWaiting exceeded: {waiting} of your items are not finished yet and"
        f" at most {limit} may be; {items} more do not fit. Try again once some finish.",
        quota=WAITING,
        limit=limit,
        retry_after_s=math.ceil(RECOUNT_EVERY_MS / 1000),
    )

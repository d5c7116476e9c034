"""The scheduler loop of the jobs service: whichever replica holds the lease fires.

Every jobs service process runs one; each tick it takes or renews the
database lease ``workq.scheduler`` and, only while it holds it, fires the
due schedules. A holder that dies is replaced once its lease expires; one
that stops cleanly releases it at once. Between ticks the holder sleeps
until the earliest schedule is due (at most one tick), so runs fire close
to their time rather than up to a tick late.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable

import peewee

from workq_core.db import database_errors, leases
from workq_core.db.sql import now_ms
from workq_core.errors import WorkqError
from workq_core.schedules.firing import Submitter, fire_due, next_due_at

logger = logging.getLogger(__name__)

LEASE_NAME = "workq.scheduler"
MIN_WAIT_S = 0.005


class Scheduler:
    """``Scheduler(db, submitter, tick_s=1, lease_ms=10_000, grace_ms=60_000).start()``.

    ``wake`` is called after runs were submitted (the relay's wake);
    ``poke()`` makes it look again now (a schedule was created or resumed here).
    """

    def __init__(
        self,
        db: peewee.Database,
        submitter: Submitter,
        *,
        tick_s: float,
        lease_ms: int,
        grace_ms: int,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.submitter = submitter
        self.tick_s = tick_s
        self.lease_ms = lease_ms
        self.grace_ms = grace_ms
        self.wake = wake
        # The pid says which process holds the lease (operators, the fault harness).
        self.holder = f"scheduler-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.holding = False
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="workq-scheduler", daemon=True)
        self._thread.start()
        return self

    def poke(self) -> None:
        self._poke.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the current turn, then give the lease up so another replica fires at once."""
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.holding:
            try:
                with database_errors(), self.db.connection_context():
                    leases.release(self.db, LEASE_NAME, self.holder)
            except WorkqError:
                logger.warning("scheduler could not release its lease; it expires by itself")
            self.holding = False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                wait_s = self.run_once()
            except WorkqError as exc:
                logger.warning("scheduler cannot fire yet", extra={"error": exc.message})
                wait_s = self.tick_s
            except Exception:
                logger.error("scheduler failed", exc_info=True)
                wait_s = self.tick_s
            self._poke.wait(wait_s)
            self._poke.clear()

    def run_once(self) -> float:
        """One turn: hold the lease, fire what is due; returns how long to wait before the next."""
        with database_errors(), self.db.connection_context():
            held = leases.acquire(self.db, LEASE_NAME, self.holder, self.lease_ms)
            if held != self.holding:
                logger.info(
                    "scheduler lease taken" if held else "scheduler lease lost",
                    extra={"holder": self.holder},
                )
            self.holding = held
            if not held:
                return self.tick_s
            if fire_due(self.db, self.submitter, self.grace_ms):
                self.wake()
            due = next_due_at(self.db)
        if due is None:
            return self.tick_s
        return min(self.tick_s, max(MIN_WAIT_S, (due - now_ms()) / 1000))

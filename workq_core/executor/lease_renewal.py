"""Keep the leases of the items this process runs, and tell their handlers of cancellation.

A lease is short (``executor.lease_s``) and renewed while its executor
lives, so an item whose executor died or froze is taken over after about
one lease rather than after a fixed long wait. One transaction per round
renews every attempt this process holds, except those whose handler
declared heartbeats and then stopped sending them (stuck: left to expire),
and reads which of their jobs were cancelled, which ``ctx.cancelled`` then
reports.
"""

from __future__ import annotations

import logging
import threading
import time

import peewee

from workq_core.db import database_errors
from workq_core.errors import WorkqError
from workq_core.executor import attempts
from workq_core.executor.running import RunningAttempt, RunningAttempts

logger = logging.getLogger(__name__)

# Renew at least this often: also how soon a running handler learns that its job was cancelled.
MAX_EVERY_S = 2.0


def renewal_interval_s(lease_s: float) -> float:
    """A third of the lease (two renewals may fail before it runs out), at most ``MAX_EVERY_S``."""
    return min(lease_s / 3, MAX_EVERY_S)


class LeaseRenewer:
    """A background thread renewing the leases of ``running`` every ``renewal_interval_s``."""

    def __init__(self, db: peewee.Database, running: RunningAttempts, lease_s: float) -> None:
        self.db = db
        self.running = running
        self.lease_s = lease_s
        self.every_s = renewal_interval_s(lease_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="workq-lease-renewal", daemon=True)

    def start(self) -> LeaseRenewer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.renew_once()
            except WorkqError as exc:
                logger.warning("leases not renewed", extra={"error": exc.message})

    def renew_once(self) -> None:
        held = self.running.snapshot()
        if not held:
            return
        now = time.monotonic()
        alive = [a for a in held if not a.stalled(now, self.lease_s)]
        newly_stuck = [a for a in held if a.stalled(now, self.lease_s) and not a.stall_reported]
        for stuck in newly_stuck:
            _report_stall(stuck)
        with database_errors(), self.db.connection_context():
            # A stalled handler's attempt counts when another executor takes the item over.
            attempts.mark_started(self.db, [a.claim for a in newly_stuck])
            attempts.renew(self.db, [a.claim for a in alive], int(self.lease_s * 1000))
            cancelled = attempts.cancelled_jobs(self.db, sorted({a.claim.job_id for a in held}))
        for attempt in held:
            if attempt.claim.job_id in cancelled:
                attempt.cancel_requested = True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.every_s + 5)


def _report_stall(attempt: RunningAttempt) -> None:
    if attempt.stall_reported:
        return
    attempt.stall_reported = True
    logger.warning(
        "item stopped heartbeating; its lease is left to run out",
        extra={
            "job_id": attempt.claim.job_id,
            "item_index": attempt.claim.index,
            "attempt": attempt.claim.attempt,
        },
    )

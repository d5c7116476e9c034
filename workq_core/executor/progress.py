"""Handlers' progress reports, throttled: held per attempt, written in batches by one thread.

A handler may call ``ctx.progress`` thousands of times a second; the
database sees at most one write per item per interval, batched over all the
items reporting, and nothing at all from handlers that never report. The
last report of an attempt is taken by the attempt's outcome and written in
its transaction, so it is never lost and never lands after the outcome.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import peewee

from workq_core.db import database_errors
from workq_core.db.sql import now_ms
from workq_core.errors import Unavailable
from workq_core.executor.attempts import Claim
from workq_core.jobs import progress
from workq_core.jobs.progress import ProgressReport

logger = logging.getLogger(__name__)


class AttemptProgress:
    """The progress sink of one attempt: its latest report, and whether that is written yet."""

    def __init__(self, claim: Claim, flusher: ProgressFlusher) -> None:
        self.claim = claim
        self._flusher = flusher
        self._lock = threading.Lock()
        self._latest: ProgressReport | None = None
        self._unwritten = False
        self._finished = False

    def report(self, done: int, total: int | None, message: str | None) -> None:
        c = self.claim
        report = ProgressReport(
            c.item_id, c.job_id, c.index, c.attempt, c.claimed_at, done, total, message, now_ms()
        )
        with self._lock:
            if self._finished:
                return  # a handler's stray thread reporting after the attempt ended
            self._latest, self._unwritten = report, True
        self._flusher.pending(self)

    def take(self) -> ProgressReport | None:
        """The report to write now, if there is a new one and the attempt still runs."""
        with self._lock:
            if self._finished or not self._unwritten:
                return None
            self._unwritten = False
            return self._latest

    def finish(self) -> tuple[ProgressReport | None, bool]:
        """End the attempt's reporting: its last report, and whether no event logged it yet."""
        with self._lock:
            self._finished = True
            return self._latest, self._unwritten


@dataclass
class ProgressFlusher:
    """Writes pending reports every ``interval_s`` on its own thread, started on first use."""

    db: peewee.Database
    interval_s: float = 0.5
    _pending: set[AttemptProgress] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def pending(self, attempt: AttemptProgress) -> None:
        with self._lock:
            self._pending.add(attempt)
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="workq-progress", daemon=True
                )
                self._thread.start()

    def flush(self) -> int:
        """Write what is pending now, in one transaction; returns how many reports."""
        with self._lock:
            attempts, self._pending = self._pending, set()
        reports = [r for r in (a.take() for a in attempts) if r is not None]
        if not reports:
            return 0
        with database_errors():
            return progress.store(self.db, reports)

    def _loop(self) -> None:
        try:
            while not self._stopping.wait(self.interval_s):
                try:
                    self.flush()
                except Unavailable:
                    logger.warning("database unavailable; progress reports dropped")
                    self.db.close()
        finally:
            self.db.close()

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

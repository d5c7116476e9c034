"""The retention task: every ``retention.interval_s``, one replica purges old finished jobs.

Every jobs service process runs it; the ``retention`` database lease makes
sure one process at a time, across replicas, purges, and one that dies
mid-purge hands over once the lease expires.
"""

from __future__ import annotations

import logging
import threading
import uuid

import peewee

from workq_core.config import RetentionSettings
from workq_core.db import database_errors, leases
from workq_core.db.sql import now_ms
from workq_core.errors import WorkqError
from workq_core.retention.purge import PurgeResult, purge_finished

logger = logging.getLogger(__name__)

LEASE = "retention"
LEASE_TTL_MS = 60_000


def purge_once(
    db: peewee.Database, settings: RetentionSettings, max_age_ms: int, holder: str
) -> PurgeResult | None:
    """One purge under the lease; None when another holder has it (or ``max_age_ms`` is 0)."""
    if max_age_ms <= 0:
        return None
    with database_errors(), db.connection_context():
        if not leases.acquire(db, LEASE, holder, LEASE_TTL_MS):
            return None
        try:
            return purge_finished(
                db,
                now_ms() - max_age_ms,
                batch_size=settings.batch_size,
                renew=lambda: leases.acquire(db, LEASE, holder, LEASE_TTL_MS),
            )
        finally:
            leases.release(db, LEASE, holder)


class RetentionTask:
    """A daemon thread calling :func:`purge_once` at start and every ``interval_s``."""

    def __init__(self, db: peewee.Database, settings: RetentionSettings) -> None:
        self.db = db
        self.settings = settings
        self.holder = f"retention-{uuid.uuid4().hex[:16]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="workq-retention", daemon=True)

    def start(self) -> RetentionTask:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                purge_once(self.db, self.settings, self.settings.max_age_ms, self.holder)
            except WorkqError as exc:
                logger.warning("retention purge not run", extra={"error": exc.message})
            except Exception:
                logger.error("retention purge failed", exc_info=True)
            self._stop.wait(self.settings.interval_s)

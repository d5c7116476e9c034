"""An executor's heartbeat row: alive, which job types, and when it last ran dry."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence

import peewee

from workq_core.db import database_errors
from workq_core.db.sql import now_ms, run, write_transaction
from workq_core.errors import WorkqError

logger = logging.getLogger(__name__)

EVERY_S = 2.0
_UPSERT_SQL = (
    "INSERT INTO executors (id, job_types, started_at, heartbeat_at, ran_dry_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " heartbeat_at = excluded.heartbeat_at, ran_dry_at = excluded.ran_dry_at"
)
_DELETE_SQL = "DELETE FROM executors WHERE id = ?"
# Rows of executors that died without removing theirs (SIGKILL, OOM, lost host);
# the sweep already ignores rows older than its heartbeat TTL (15 s).
STALE_MS = 3_600_000
_DELETE_STALE_SQL = "DELETE FROM executors WHERE heartbeat_at < ?"


class Heartbeat:
    """Writes this executor's row every ``EVERY_S``; the relay's sweep reads them.

    ``ran_dry`` reports when a worker thread last found nothing to receive,
    so the sweep can tell items the broker no longer hands over (lost, or
    held by a paused consumer) from a backlog the executors are working through.
    """

    def __init__(
        self, db: peewee.Database, job_types: Sequence[str], ran_dry: Callable[[], int]
    ) -> None:
        self.db = db
        self.id = uuid.uuid4().hex
        self.job_types = json.dumps(sorted(job_types))
        self.ran_dry = ran_dry
        self.started_at = now_ms()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="workq-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.beat()
        self.remove_stale()
        self._thread.start()
        return self

    def remove_stale(self) -> int:
        """Delete rows not renewed for ``STALE_MS``: every start cleans up after dead executors."""
        with database_errors(), self.db.connection_context(), write_transaction(self.db):
            return int(run(self.db, _DELETE_STALE_SQL, (now_ms() - STALE_MS,)).rowcount)

    def beat(self) -> None:
        now = now_ms()
        params = (self.id, self.job_types, self.started_at, now, self.ran_dry())
        with database_errors(), self.db.connection_context(), write_transaction(self.db):
            run(self.db, _UPSERT_SQL, params)

    def _loop(self) -> None:
        while not self._stop.wait(EVERY_S):
            try:
                self.beat()
            except WorkqError as exc:
                logger.warning("heartbeat not written", extra={"error": exc.message})

    def stop(self) -> None:
        """Stop beating and remove the row: a stopped executor is not an idle one."""
        self._stop.set()
        self._thread.join(EVERY_S + 1)
        try:
            with database_errors(), self.db.connection_context(), write_transaction(self.db):
                run(self.db, _DELETE_SQL, (self.id,))
        except WorkqError:
            logger.warning("heartbeat row not removed; it expires by itself")

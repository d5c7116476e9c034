"""The outbox relay: publish committed outbox rows, then delete them, in one transaction."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

import peewee

from workq_core.db import database_errors
from workq_core.errors import WorkqError
from workq_core.jobs.messages import encode
from workq_core.jobs.sql import for_update, now_ms, placeholders, rows, run, write_transaction
from workq_core.jobs.states import QUEUED, RETRYING
from workq_core.types import Transport

logger = logging.getLogger(__name__)

POLL_S = 0.25
ERROR_BACKOFF_S = 1.0
_DUE_SQL = (
    "SELECT id, job_id, item_id, job_type FROM outbox WHERE due_at <= ? ORDER BY id LIMIT 100"
)


class OutboxRelay:
    """Publishes what submissions, retries and re-runs committed to the outbox.

    A row with ``item_id`` NULL stands for every queued item of its job (one
    row per submission, however large); a row with an ``item_id`` is one retry,
    due at ``due_at``. Rows are locked while published (PostgreSQL: ``FOR
    UPDATE SKIP LOCKED``; SQLite: the write lock), so any number of relays can
    run without publishing a row twice, and a row is deleted only in the
    transaction that saw its publish confirmed: if the process dies first, the
    row is still there and the next relay publishes it.
    """

    def __init__(self, db: peewee.Database, transport: Transport, *, poll_s: float = POLL_S):
        self.db = db
        self.transport = transport
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> OutboxRelay:
        self._thread = threading.Thread(target=self._loop, name="workq-relay", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                published = self.run_once()
            except WorkqError as exc:
                logger.warning("outbox relay cannot publish yet", extra={"error": exc.message})
                self._stop.wait(ERROR_BACKOFF_S)
                continue
            except Exception:
                logger.error("outbox relay failed", exc_info=True)
                self._stop.wait(ERROR_BACKOFF_S)
                continue
            if published == 0:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def run_once(self) -> int:
        """Publish one batch of due rows; returns how many messages went out."""
        with database_errors(), self.db.connection_context(), write_transaction(self.db):
            lock = for_update(self.db, skip_locked=True)
            due = rows(self.db, _DUE_SQL + lock, (now_ms(),))
            if not due:
                return 0
            by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in due:
                by_type[row["job_type"]].extend(self._items_of(row))
            for job_type, items in by_type.items():
                if items:
                    self.transport.publish(job_type, [encode(item) for item in items])
            ids = [row["id"] for row in due]
            marks = placeholders(len(ids))
            run(self.db, f"DELETE FROM outbox WHERE id IN ({marks})", ids)  # noqa: S608
        count = sum(len(items) for items in by_type.values())
        logger.debug("outbox published", extra={"rows": len(due), "messages": count})
        return count

    def _items_of(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        columns = "SELECT id, job_id, idx, attempts, last_error FROM items"
        if row["item_id"] is None:
            return rows(
                self.db,
                f"{columns} WHERE job_id = ? AND status = ? ORDER BY idx",
                (row["job_id"], QUEUED),
            )
        return rows(
            self.db,
            f"{columns} WHERE id = ? AND status IN (?, ?)",
            (row["item_id"], QUEUED, RETRYING),
        )

"""The outbox relay: publish committed outbox rows, delete them once the broker confirmed."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import peewee

from workq_core.db import database_errors
from workq_core.db.sql import for_update, now_ms, placeholders, rows, run, write_transaction
from workq_core.errors import WorkqError
from workq_core.faults import AFTER_CLAIM_BEFORE_PUBLISH, fault_point
from workq_core.jobs.admission import Admission, Admitted, Window
from workq_core.jobs.fleet import HEARTBEAT_TTL_MS
from workq_core.jobs.messages import encode
from workq_core.jobs.states import DEAD, QUEUED, RETRYING, RUNNING
from workq_core.jobs.sweeper import recover_expired_leases, sweep
from workq_core.telemetry.tracing import message_properties
from workq_core.types import OutgoingMessage, Transport

logger = logging.getLogger(__name__)

POLL_S = 0.25
# While due items wait for room in a window, look again soon: executors free slots fast.
BACKLOG_POLL_S = 0.02
ERROR_BACKOFF_S = 1.0
# Long enough for one batch's publish; short, because a relay paused or killed
# mid-publish holds its rows (and delays their retries) until the claim expires.
CLAIM_MS = 10_000
_ITEM_COLUMNS = "SELECT id, job_id, idx, attempts, last_error FROM items"
_DUE_SQL = (
    "SELECT id FROM outbox WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
    " ORDER BY id LIMIT 100"
)
_CLAIM_SQL = "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ({marks})"
_CLAIMED_SQL = (
    "SELECT id, job_id, item_id, job_type, trace_context, first_idx, end_idx"
    " FROM outbox WHERE id IN ({marks})"
)
_DONE_SQL = "DELETE FROM outbox WHERE claimed_by = ? AND id IN ({marks})"
_RANGE_SQL = (
    f"{_ITEM_COLUMNS} WHERE job_id = ? AND idx >= ? AND idx < ? AND status = ? ORDER BY idx"
)
# A dead item is published again only while its dead letter is unrecorded (the sweep's).
_ONE_ITEM_SQL = (
    f"{_ITEM_COLUMNS} WHERE id = ?"
    " AND (status IN (?, ?, ?) OR (status = ? AND dead_lettered_at IS NULL))"
)


class OutboxRelay:
    """Publishes what submissions, retries, re-runs and sweeps committed to the outbox.

    A row with an ``item_id`` is one item, due at ``due_at`` (retries,
    re-runs, sweeps); a row with an index range is what admission let into
    the broker of a job's fresh items (``workq_core.jobs.admission``: the
    database is the queue, ordered by due time, priority and owner). A relay
    first tops up the windows and claims rows in a short transaction (a
    claim that outlives a dead relay expires after ``CLAIM_MS``), publishes
    them with no lock held, so submissions never wait behind a publish, and
    deletes them only after the broker confirmed. Any number of relays can
    run; none publishes a row another holds, and if one dies mid-publish the
    row comes back: messages may repeat, never go missing.
    """

    def __init__(
        self,
        db: peewee.Database,
        transport: Transport,
        *,
        poll_s: float = POLL_S,
        stall_ms: int | None = None,
        lease_ms: int | None = None,
        window: Window | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.poll_s = poll_s
        self.stall_ms = stall_ms
        self.lease_ms = lease_ms  # with it, items whose lease ran out are re-published too
        self.relay_id = uuid.uuid4().hex
        self.admission = Admission(window or Window())
        self._admitted = Admitted()
        self._next_sweep = 0.0
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
                self._sweep_when_due()
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
                self._wake.wait(self._idle_wait_s())
                self._wake.clear()

    def _idle_wait_s(self) -> float:
        """The poll, shorter while due work waits for room or a delayed job falls due."""
        if self._admitted.backlog:
            return BACKLOG_POLL_S
        if self._admitted.next_due is not None:
            return min(self.poll_s, max(0.0, (self._admitted.next_due - now_ms()) / 1000))
        return self.poll_s

    def _sweep_when_due(self) -> None:
        if self.stall_ms is None or time.monotonic() < self._next_sweep:
            return
        period_ms = min(self.stall_ms, self.lease_ms or self.stall_ms)
        self._next_sweep = time.monotonic() + max(1.0, period_ms / 3000)
        with database_errors(), self.db.connection_context():
            sweep(self.db, self.stall_ms, HEARTBEAT_TTL_MS)
            if self.lease_ms is not None:
                recover_expired_leases(self.db, self.lease_ms)

    def run_once(self) -> int:
        """Publish one batch of due rows; returns how many messages went out."""
        with database_errors(), self.db.connection_context():
            claimed = self._claim()
            if not claimed:
                return 0
            by_type: dict[str, list[OutgoingMessage]] = defaultdict(list)
            for row in claimed:
                trace = message_properties(row["trace_context"])
                by_type[row["job_type"]].extend(encode(i, trace) for i in self._items_of(row))
            fault_point(AFTER_CLAIM_BEFORE_PUBLISH)
            for job_type, messages in by_type.items():
                if messages:
                    self.transport.publish(job_type, messages)
            ids = [row["id"] for row in claimed]
            with write_transaction(self.db):
                run(self.db, _DONE_SQL.format(marks=placeholders(len(ids))), [self.relay_id, *ids])
        count = sum(len(messages) for messages in by_type.values())
        logger.debug("outbox published", extra={"rows": len(claimed), "messages": count})
        return count

    def _claim(self) -> list[dict[str, Any]]:
        now = now_ms()
        with write_transaction(self.db):
            self._admitted = self.admission.admit(self.db, now)
            lock = for_update(self.db, skip_locked=True)
            ids = [row["id"] for row in rows(self.db, _DUE_SQL + lock, (now, now))]
            if not ids:
                return []
            marks = placeholders(len(ids))
            run(self.db, _CLAIM_SQL.format(marks=marks), [self.relay_id, now + CLAIM_MS, *ids])
            return rows(self.db, _CLAIMED_SQL.format(marks=marks), ids)

    def _items_of(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        if row["item_id"] is None:
            params = (row["job_id"], row["first_idx"], row["end_idx"], QUEUED)
            return rows(self.db, _RANGE_SQL, params)
        return rows(self.db, _ONE_ITEM_SQL, (row["item_id"], QUEUED, RETRYING, RUNNING, DEAD))

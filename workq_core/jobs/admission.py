"""Admission: hand the broker only what executors can start soon, best first and fairly.

The database is the queue. A job's fresh items wait in the ``items`` table
until admission publishes them, and the broker (a FIFO per job type) holds
at most a *window* of published items no executor has started. Each relay
cycle tops every job type's window up from the jobs that are due (``run_at``
passed, not cancelled): higher ``priority`` first, and within one priority
the owners (users) take turns, one item each, the least recently served
first; one owner's jobs go oldest first. So a later high-priority item or a
second user's small job waits behind at most one window, never behind a
whole backlog, and a delayed job costs the broker nothing until it is due.

What is admitted becomes an outbox row for the job's index range, written in
the relay's claim transaction, so publishing it is as reliable as any other
outbox row. Retries, re-runs and sweeps are per-item outbox rows, published
when due, outside the window.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import peewee

from workq_core.config import Settings
from workq_core.db import is_postgres
from workq_core.db.sql import rows, run_many
from workq_core.jobs import fleet
from workq_core.jobs.outbox import OutboxEntry, enqueue

# A window never shrinks below this, so an executor that is starting finds work.
WINDOW_FLOOR = 64
LIVE_CACHE_S = 1.0
# A window that still holds items is topped up once this fraction of it is free.
TOP_UP_FRACTION = 4
_DUE = "published < size AND cancelled_at IS NULL AND (run_at IS NULL OR run_at <= ?)"
_TYPES_SQL = f"SELECT DISTINCT type FROM jobs WHERE {_DUE}"  # noqa: S608 - constant text
_NEXT_DUE_SQL = (
    "SELECT MIN(run_at) AS due FROM jobs"
    " WHERE published < size AND cancelled_at IS NULL AND run_at > ?"
)
# Literal 'queued': SQLite uses a partial index only for the exact term it was built with.
# An item a limit parked (``limit_scope``) waits in the database, not the broker.
_IN_BROKER_SQL = (
    "SELECT COUNT(*) AS n FROM items i JOIN jobs j ON j.id = i.job_id"
    " WHERE j.type = ? AND i.status = 'queued' AND i.published_at IS NOT NULL"
    " AND i.limit_scope IS NULL"
)
_CANDIDATES_SQL = (
    "SELECT id, user_id, priority, published, size, trace_context FROM ("  # noqa: S608
    " SELECT id, user_id, priority, published, size, trace_context, created_at, admitted_at,"
    " ROW_NUMBER() OVER (PARTITION BY priority, user_id ORDER BY created_at, id) AS turn"
    f" FROM jobs WHERE type = ? AND {_DUE}) AS c"
    " WHERE turn <= ? ORDER BY priority DESC, turn, COALESCE(admitted_at, 0), created_at, id"
    " LIMIT ?"
)
_ADVANCE_SQL = "UPDATE jobs SET published = ?, admitted_at = ? WHERE id = ?"
_MARK_SQL = "UPDATE items SET published_at = ? WHERE job_id = ? AND idx >= ? AND idx < ?"
_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext(?)) AS locked"


@dataclass(frozen=True)
class Window:
    """How many published, not yet started items of one job type the broker may hold.

    ``fixed`` > 0 is that many; 0 sizes it from the executors serving the type:
    ``per_process`` for each live executor process, at least ``WINDOW_FLOOR``.
    """

    fixed: int = 0
    per_process: int = 256

    def size(self, live_processes: int) -> int:
        if self.fixed:
            return self.fixed
        return max(WINDOW_FLOOR, self.per_process * live_processes)


def items_in_broker(db: peewee.Database, job_type: str) -> int:
    """Published items of ``job_type`` that no executor has started yet: the window's fill."""
    return int(rows(db, _IN_BROKER_SQL, (job_type,))[0]["n"])


def window_for(settings: Settings) -> Window:
    """Twice what one process holds at once (threads x batch), so executors never run dry."""
    executor = settings.executor
    return Window(executor.publish_window, 2 * executor.threads * executor.batch_size)


@dataclass(frozen=True)
class Candidate:
    """A due job with items not yet published."""

    id: str
    user_id: int
    priority: int
    published: int
    size: int
    trace_context: str | None = None  # the submitting request's (telemetry.tracing)


@dataclass(frozen=True)
class Admitted:
    """One cycle's admission: items admitted, whether due work still waits for room,
    and the earliest ``run_at`` of a job not yet due (to wake for it)."""

    items: int = 0
    backlog: bool = False
    next_due: int | None = None


def share(candidates: Sequence[Candidate], free: int) -> dict[str, int]:
    """How many items each job gets of ``free`` slots: priorities in order (the
    candidates come sorted), owners in turn within one, each owner's jobs oldest first."""
    taken: dict[str, int] = defaultdict(int)
    for level in _levels(candidates):
        queues = deque(deque(jobs) for jobs in level)
        while free and queues:
            jobs = queues.popleft()
            job = jobs[0]
            taken[job.id] += 1
            free -= 1
            if job.published + taken[job.id] >= job.size:
                jobs.popleft()
            if jobs:
                queues.append(jobs)
    return dict(taken)


def _levels(candidates: Iterable[Candidate]) -> list[list[list[Candidate]]]:
    """Priority levels in the given order, each a list of owners' job lists."""
    levels: dict[int, dict[int, list[Candidate]]] = {}
    for job in candidates:
        levels.setdefault(job.priority, {}).setdefault(job.user_id, []).append(job)
    return [list(owners.values()) for owners in levels.values()]


class Admission:
    """Tops up each job type's window; runs inside the relay's claim transaction."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._live: Counter[str] = Counter()
        self._live_read = float("-inf")

    def admit(self, db: peewee.Database, now: int) -> Admitted:
        items, backlog = 0, False
        for job_type in [row["type"] for row in rows(db, _TYPES_SQL, (now,))]:
            count, waiting = self._admit_type(db, job_type, now)
            items += count
            backlog = backlog or waiting
        due = rows(db, _NEXT_DUE_SQL, (now,))[0]["due"]
        return Admitted(items, backlog, None if due is None else int(due))

    def window_size(self, db: peewee.Database, job_type: str, now: int) -> int:
        if time.monotonic() - self._live_read > LIVE_CACHE_S:
            self._live = fleet.live_processes(db, now)
            self._live_read = time.monotonic()
        return self.window.size(self._live[job_type])

    def _admit_type(self, db: peewee.Database, job_type: str, now: int) -> tuple[int, bool]:
        """Items admitted for ``job_type``, and whether due items of it still wait."""
        if is_postgres(db) and not rows(db, _LOCK_SQL, (f"workq-admit:{job_type}",))[0]["locked"]:
            return 0, True  # another relay is admitting this type right now
        in_broker = items_in_broker(db, job_type)
        window = self.window_size(db, job_type, now)
        free = window - in_broker
        if free <= 0 or (in_broker and free < window // TOP_UP_FRACTION):
            return 0, True  # top up in chunks: a cycle per item freed would cost the drain
        found = rows(db, _CANDIDATES_SQL, (job_type, now, free, free))
        candidates = [Candidate(**row) for row in found]
        taken = share(candidates, free)
        self._publish(db, job_type, candidates, taken, now)
        count = sum(taken.values())
        return count, count == free

    def _publish(
        self,
        db: peewee.Database,
        job_type: str,
        candidates: Sequence[Candidate],
        taken: dict[str, int],
        now: int,
    ) -> None:
        entries = [
            OutboxEntry(c.id, job_type, now, None, c.trace_context, c.published, end)
            for c in candidates
            if c.id in taken
            for end in [c.published + taken[c.id]]
        ]
        run_many(db, _ADVANCE_SQL, [(e.end_idx, now, e.job_id) for e in entries])
        run_many(db, _MARK_SQL, [(now, e.job_id, e.first_idx, e.end_idx) for e in entries])
        enqueue(db, entries, now)

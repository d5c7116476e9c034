"""Submitting a job: the job and its items commit together, or nothing does.

The committed job is the queue entry: admission (``workq_core.jobs.admission``)
publishes its items once ``run_at`` has passed, in priority and owner order.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db import is_postgres
from workq_core.db.sql import now_ms, rows, run, write_transaction
from workq_core.errors import InvalidPayload
from workq_core.jobs.ids import new_job_id
from workq_core.jobs.states import QUEUED
from workq_core.telemetry.tracing import current_trace_context

INSERT_CHUNK = 500


@dataclass(frozen=True)
class QueueOrder:
    """When and how urgently a job runs: not before ``run_at`` (ms; None: now),
    and before waiting jobs of its type with a lower ``priority``."""

    run_at: int | None = None
    priority: int = 0


NOW = QueueOrder()


@dataclass(frozen=True)
class Submitted:
    """The outcome of :func:`submit_job`: the job's id, and whether this call created it."""

    job_id: str
    created: bool
    created_at: int = 0  # set when ``created``: the job as committed is all queued


def submit_job(
    db: peewee.Database,
    *,
    user_id: int,
    job_type: str,
    items: Sequence[dict[str, Any]],
    max_attempts: int,
    idempotency_key: str | None = None,
    order: QueueOrder = NOW,
) -> Submitted:
    """Store a validated job: job and items commit together, or nothing does.

    With an idempotency key the user already used, the earlier job is returned
    (``created`` false) and nothing new is stored; the key with another job type
    or size is a BAD_USER_INPUT error rather than a silent mismatch.
    """
    if idempotency_key is not None:
        existing = _find_by_key(db, user_id, idempotency_key)
        if existing is not None:
            return Submitted(_same_job(existing, job_type, len(items)), created=False)
    job_id, now, trace = new_job_id(), now_ms(), current_trace_context()
    # with the trace context, executors' attempt spans become children of this request
    job_row = (
        *(job_id, user_id, job_type, len(items), idempotency_key, now),
        *(order.run_at, order.priority, trace),
    )
    data = [_dumps(item) for item in items]
    try:
        _store(db, job_row, data, max_attempts, now)
    except peewee.IntegrityError:
        # A concurrent request with the same key committed first: answer with its job.
        existing = _find_by_key(db, user_id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return Submitted(_same_job(existing, job_type, len(items)), created=False)
    return Submitted(job_id, created=True, created_at=now)


_JOB_SQL = (
    "INSERT INTO jobs"
    " (id, user_id, type, size, idempotency_key, created_at, run_at, priority, trace_context)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ITEMS_VALUES = "INSERT INTO items (job_id, idx, data, status, max_attempts, updated_at) VALUES "
_ITEMS_FROM_ARRAYS = (
    "INSERT INTO items (job_id, idx, data, status, max_attempts, updated_at)"
    " SELECT ?, t.idx, t.data, ?, ?, ? FROM unnest(?::int[], ?::text[]) AS t(idx, data)"
)
# PostgreSQL takes the whole submission as one statement, the job as a
# data-modifying CTE ahead of the items: under autocommit a single statement
# is its own transaction, so a submission costs one round trip where BEGIN,
# two INSERTs and COMMIT cost four. The items' foreign key holds, since it
# is checked at the end of the statement.
_SUBMISSION_PG = f"WITH j AS ({_JOB_SQL}) {_ITEMS_FROM_ARRAYS}"


def _store(
    db: peewee.Database,
    job_row: tuple[Any, ...],
    data: list[str],
    max_attempts: int,
    now: int,
) -> None:
    """Job and items, all or nothing, in as few statements as the engine allows.

    PostgreSQL takes the items as two arrays (several times faster than
    multi-row VALUES for 10,000 items) in the one statement; SQLite, which
    has no arrays, takes multi-row VALUES in chunks under its variable
    limit, all in one write transaction.
    """
    job_id = job_row[0]
    if is_postgres(db):
        items = (job_id, QUEUED, max_attempts, now, list(range(len(data))), data)
        # Inside a caller's transaction (the scheduler's), a savepoint keeps a
        # duplicate idempotency key from aborting the caller's whole transaction.
        with db.atomic() if db.in_transaction() else contextlib.nullcontext():
            run(db, _SUBMISSION_PG, [*job_row, *items])
        return
    with write_transaction(db):
        run(db, _JOB_SQL, job_row)
        for start in range(0, len(data), INSERT_CHUNK):
            chunk = data[start : start + INSERT_CHUNK]
            values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
            params: list[Any] = []
            for offset, text in enumerate(chunk):
                params += [job_id, start + offset, text, QUEUED, max_attempts, now]
            run(db, _ITEMS_VALUES + values, params)


def _find_by_key(db: peewee.Database, user_id: int, key: str) -> dict[str, Any] | None:
    found = rows(
        db,
        "SELECT id, type, size FROM jobs WHERE user_id = ? AND idempotency_key = ?",
        (user_id, key),
    )
    return found[0] if found else None


def _same_job(existing: dict[str, Any], job_type: str, size: int) -> str:
    if existing["type"] != job_type or existing["size"] != size:
        raise InvalidPayload(
            "idempotencyKey was already used for a different job "
            f"({existing['type']}, {existing['size']} items)",
            field="idempotencyKey",
        )
    return str(existing["id"])


def _dumps(item: dict[str, Any]) -> str:
    return json.dumps(item, separators=(",", ":"), allow_nan=False)

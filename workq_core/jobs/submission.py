"""Submitting a job: job, items and outbox row commit together, or nothing does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import peewee

from workq_core.db import is_postgres
from workq_core.db.sql import now_ms, rows, run, write_transaction
from workq_core.errors import InvalidPayload
from workq_core.jobs.ids import new_job_id
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.states import QUEUED

INSERT_CHUNK = 500


def submit_job(
    db: peewee.Database,
    *,
    user_id: int,
    job_type: str,
    items: Sequence[dict[str, Any]],
    max_attempts: int,
    idempotency_key: str | None = None,
) -> tuple[str, bool]:
    """Store a validated job; returns ``(job_id, created)``.

    With an idempotency key the user already used, the earlier job is returned
    (``created`` false) and nothing new is stored; the key with another job type
    or size is a BAD_USER_INPUT error rather than a silent mismatch.
    """
    if idempotency_key is not None:
        existing = _find_by_key(db, user_id, idempotency_key)
        if existing is not None:
            return _same_job(existing, job_type, len(items)), False
    try:
        with write_transaction(db):
            job_id = _insert(db, user_id, job_type, items, max_attempts, idempotency_key)
    except peewee.IntegrityError:
        # A concurrent request with the same key committed first: answer with its job.
        existing = _find_by_key(db, user_id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _same_job(existing, job_type, len(items)), False
    return job_id, True


def _insert(
    db: peewee.Database,
    user_id: int,
    job_type: str,
    items: Sequence[dict[str, Any]],
    max_attempts: int,
    idempotency_key: str | None,
) -> str:
    job_id = new_job_id()
    now = now_ms()
    run(
        db,
        "INSERT INTO jobs (id, user_id, type, size, idempotency_key, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (job_id, user_id, job_type, len(items), idempotency_key, now),
    )
    _insert_items(db, job_id, [_dumps(item) for item in items], max_attempts, now)
    enqueue(db, [OutboxEntry(job_id, job_type, due_at=now)], now)
    return job_id


_ITEMS_FROM_ARRAYS = (
    "INSERT INTO items (job_id, idx, data, status, max_attempts, updated_at)"
    " SELECT ?, t.idx, t.data, ?, ?, ? FROM unnest(?::int[], ?::text[]) AS t(idx, data)"
)


def _insert_items(
    db: peewee.Database, job_id: str, data: list[str], max_attempts: int, now: int
) -> None:
    """All items in as few statements as the engine allows.

    PostgreSQL takes the whole job as two arrays in one statement (several
    times faster than multi-row VALUES for 10,000 items); SQLite, which has
    no arrays, takes multi-row VALUES in chunks under its variable limit.
    """
    if is_postgres(db):
        params = (job_id, QUEUED, max_attempts, now, list(range(len(data))), data)
        run(db, _ITEMS_FROM_ARRAYS, params)
        return
    for start in range(0, len(data), INSERT_CHUNK):
        chunk = data[start : start + INSERT_CHUNK]
        values = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
        params_: list[Any] = []
        for offset, text in enumerate(chunk):
            params_ += [job_id, start + offset, text, QUEUED, max_attempts, now]
        run(
            db,
            "INSERT INTO items (job_id, idx, data, status, max_attempts, updated_at) VALUES "  # noqa: S608
            + values,  # placeholders only
            params_,
        )


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

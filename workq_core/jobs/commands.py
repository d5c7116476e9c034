"""Changing a submitted job: cancel it, or re-run its dead items."""

from __future__ import annotations

import logging
from typing import Any

import peewee

from workq_core.db.sql import for_update, now_ms, rows, run, write_transaction
from workq_core.errors import InvalidPayload
from workq_core.jobs import event_log
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.states import CANCELLED, DEAD, QUEUED, RETRYING
from workq_core.telemetry.tracing import current_trace_context

logger = logging.getLogger(__name__)

JOB_NOT_FOUND = "No such job."


class JobNotFound(InvalidPayload):
    """No job with that id belongs to this user (another user's job reads the same)."""

    def __init__(self) -> None:
        super().__init__(JOB_NOT_FOUND, field="id")


def cancel_job(db: peewee.Database, user_id: int, job_id: str) -> int:
    """Cancel the user's job; returns how many waiting items were cancelled now.

    Queued and retrying items become cancelled in the transaction that sets
    ``cancelled_at`` (a job still waiting for its ``run_at`` included), and
    the job leaves admission's queue; running items finish their attempt (the
    executor checks ``cancelled_at`` before starting one), unless their handler
    sees ``ctx.cancelled`` and stops, which records them cancelled too.
    Cancelling twice changes nothing.
    """
    with write_transaction(db):
        _owned(db, user_id, job_id)
        now = now_ms()
        run(
            db,
            "UPDATE jobs SET cancelled_at = ?, published = size"
            " WHERE id = ? AND cancelled_at IS NULL",
            (now, job_id),
        )
        event_log.append_for_items(db, event_log.CANCELLED, now, job_id, (QUEUED, RETRYING))
        cursor = run(
            db,
            "UPDATE items SET status = ?, finished_at = ?, updated_at = ?, next_attempt_at = NULL"
            " WHERE job_id = ? AND status IN (?, ?)",
            (CANCELLED, now, now, job_id, QUEUED, RETRYING),
        )
    logger.info("job cancelled", extra={"job_id": job_id, "items": cursor.rowcount})
    return int(cursor.rowcount)


def retry_dead_items(db: peewee.Database, user_id: int, job_id: str) -> int:
    """Queue the job's dead items again with fresh attempts; returns how many.

    Each gets an outbox row due now (re-runs go straight to the broker, like
    retries). The last error stays on each item until its next attempt.
    """
    with write_transaction(db):
        job = _owned(db, user_id, job_id)
        if job["cancelled_at"] is not None:
            raise InvalidPayload("The job was cancelled; its items cannot be re-run.", field="id")
        now = now_ms()
        dead = rows(db, "SELECT id FROM items WHERE job_id = ? AND status = ?", (job_id, DEAD))
        event_log.append_for_items(db, event_log.RERUN, now, job_id, (DEAD,))
        cursor = run(
            db,
            "UPDATE items SET status = ?, attempts = 0, next_attempt_at = NULL,"
            " lease_expires_at = NULL, dead_lettered_at = NULL, started_at = NULL,"
            " finished_at = NULL, updated_at = ? WHERE job_id = ? AND status = ?",
            (QUEUED, now, job_id, DEAD),
        )
        trace = current_trace_context()  # the re-run belongs to the request that asked for it
        entries = [OutboxEntry(job_id, job["type"], now, row["id"], trace) for row in dead]
        enqueue(db, entries, now)
    logger.info(
        "dead items re-queued",
        extra={"job_id": job_id, "job_type": job["type"], "items": cursor.rowcount},
    )
    return int(cursor.rowcount)


def _owned(db: peewee.Database, user_id: int, job_id: str) -> dict[str, Any]:
    """The job row, locked; JobNotFound when it is missing or not the user's."""
    found = rows(
        db,
        "SELECT id, type, cancelled_at FROM jobs WHERE id = ? AND user_id = ?"  # noqa: S608 - constant columns and placeholders only
        + for_update(db),
        (job_id, user_id),
    )
    if not found:
        raise JobNotFound()
    return found[0]

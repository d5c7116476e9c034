"""An item's attempt in the database: claim it, then commit its outcome, conditionally."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.jobs.messages import ItemRef
from workq_core.jobs.sql import for_update, now_ms, rows, run, write_transaction
from workq_core.jobs.states import CANCELLED, DEAD, FINAL, QUEUED, RETRYING, RUNNING, WAITING

MAX_ERROR_TEXT = 4000
_CLAIM_SQL = (
    "SELECT i.id, i.job_id, i.idx, i.data, i.status, i.attempts, i.max_attempts,"
    " i.lease_expires_at, i.dead_lettered_at, i.last_error, i.error_type,"
    " j.type, j.cancelled_at FROM items i JOIN jobs j ON j.id = i.job_id WHERE i.id = ?"
)


class Verdict(enum.Enum):
    """What to do with a delivery once the database has been asked."""

    RUN = "run"  # attempt counted: run the handler
    SETTLED = "settled"  # nothing to run (done, cancelled, stale duplicate): acknowledge
    BUSY = "busy"  # another executor holds a live lease: negative-acknowledge
    DEAD_LETTER = "dead_letter"  # dead in the database, not yet in the dead-letter topic
    MISSING = "missing"  # no such item committed: acknowledge and log


@dataclass(frozen=True)
class Claim:
    """A counted attempt of one item, as the executor runs it."""

    verdict: Verdict
    item_id: int = 0
    job_id: str = ""
    job_type: str = ""
    index: int = 0
    attempt: int = 0
    max_attempts: int = 0
    data: Any = None
    last_error: str | None = None
    error_type: str | None = None


def claim(db: peewee.Database, ref: ItemRef, lease_ms: int) -> Claim:
    """Count an attempt before it runs (broker redelivery counts reset with the broker).

    Decides from the item's committed state, never from the message alone: a
    redelivered duplicate of a finished or superseded attempt is settled, an
    item another executor is running under a live lease is busy, and an item
    whose attempts are used up (its executor died mid-run) goes to dead letters.
    """
    now = now_ms()
    with write_transaction(db):
        lock = " FOR UPDATE OF i" if for_update(db) else ""
        found = rows(db, _CLAIM_SQL + lock, (ref.item_id,))
        if not found or found[0]["job_id"] != ref.job_id:
            return Claim(Verdict.MISSING)
        item = found[0]
        verdict = _verdict(item, ref, now)
        if verdict is Verdict.SETTLED and item["cancelled_at"] and item["status"] in WAITING:
            _set(db, item["id"], status=CANCELLED, finished_at=now)
        elif verdict is Verdict.DEAD_LETTER and item["status"] != DEAD:
            _set(
                db,
                item["id"],
                status=DEAD,
                finished_at=now,
                lease_expires_at=None,
                error_type=item["error_type"] or "AttemptsExhausted",
                last_error=item["last_error"]
                or "attempts used up by executors that stopped mid-run",
            )
            item["error_type"] = item["error_type"] or "AttemptsExhausted"
        elif verdict is Verdict.RUN:
            item["attempts"] += 1
            _set(
                db,
                item["id"],
                status=RUNNING,
                attempts=item["attempts"],
                started_at=now,
                lease_expires_at=now + lease_ms,
            )
    return _claim_from(item, verdict)


def _verdict(item: dict[str, Any], ref: ItemRef, now: int) -> Verdict:
    status = item["status"]
    if status in FINAL:
        if status == DEAD and item["dead_lettered_at"] is None:
            return Verdict.DEAD_LETTER
        return Verdict.SETTLED
    if item["cancelled_at"] and status in WAITING:
        return Verdict.SETTLED
    if ref.attempt < item["attempts"] and status != RUNNING:
        return Verdict.SETTLED  # a stale copy of an attempt that already ended
    if status == RUNNING and (item["lease_expires_at"] or 0) > now:
        return Verdict.BUSY
    if item["attempts"] >= item["max_attempts"]:
        return Verdict.DEAD_LETTER
    return Verdict.RUN


def _claim_from(item: dict[str, Any], verdict: Verdict) -> Claim:
    return Claim(
        verdict=verdict,
        item_id=int(item["id"]),
        job_id=str(item["job_id"]),
        job_type=str(item["type"]),
        index=int(item["idx"]),
        attempt=int(item["attempts"]),
        max_attempts=int(item["max_attempts"]),
        data=json.loads(item["data"]),
        last_error=item["last_error"],
        error_type=item["error_type"],
    )


def complete(db: peewee.Database, c: Claim, result: Any) -> bool:
    """Commit the result if this attempt still owns the item; false if it was superseded."""
    now = now_ms()
    with write_transaction(db):
        return _owned_update(
            db,
            c,
            status="completed",
            result=json.dumps(result, allow_nan=False),
            finished_at=now,
            lease_expires_at=None,
            error_type=None,
            last_error=None,
        )


def fail(db: peewee.Database, c: Claim, error: BaseException, retry_in_ms: int | None) -> bool:
    """Record a failed attempt: retry (with an outbox row due later) or dead.

    ``retry_in_ms`` None means no retry (attempts used up, or an invalid item).
    """
    now = now_ms()
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT]
    with write_transaction(db):
        if retry_in_ms is None:
            return _owned_update(
                db,
                c,
                status=DEAD,
                finished_at=now,
                lease_expires_at=None,
                error_type=type(error).__name__,
                last_error=text,
            )
        due = now + retry_in_ms
        owned = _owned_update(
            db,
            c,
            status=RETRYING,
            next_attempt_at=due,
            lease_expires_at=None,
            error_type=type(error).__name__,
            last_error=text,
        )
        if owned:
            run(
                db,
                "INSERT INTO outbox (job_id, item_id, job_type, due_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (c.job_id, c.item_id, c.job_type, due, now),
            )
        return owned


def release(db: peewee.Database, c: Claim) -> None:
    """Give a running item back (shutdown grace ran out): its lease ends now."""
    with write_transaction(db):
        _owned_update(db, c, status=RUNNING, lease_expires_at=now_ms())


def mark_dead_lettered(db: peewee.Database, item_id: int) -> None:
    with write_transaction(db):
        _set(db, item_id, dead_lettered_at=now_ms())


def _owned_update(db: peewee.Database, c: Claim, **values: Any) -> bool:
    """Update only while the item is still in this attempt (status running, same count)."""
    values["updated_at"] = now_ms()
    assignments = ", ".join(f"{column} = ?" for column in values)
    cursor = run(
        db,
        f"UPDATE items SET {assignments} WHERE id = ? AND status = ? AND attempts = ?",  # noqa: S608 - column names are ours
        [*values.values(), c.item_id, RUNNING, c.attempt],
    )
    return cursor.rowcount == 1


def _set(db: peewee.Database, item_id: int, **values: Any) -> None:
    values["updated_at"] = now_ms()
    assignments = ", ".join(f"{column} = ?" for column in values)
    run(db, f"UPDATE items SET {assignments} WHERE id = ?", [*values.values(), item_id])  # noqa: S608


__all__ = [
    "QUEUED",
    "Claim",
    "Verdict",
    "claim",
    "complete",
    "fail",
    "mark_dead_lettered",
    "release",
]

"""An item's attempt in the database: claim it, then commit its outcome, conditionally."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import peewee

from workq_core.db.sql import (
    for_update,
    now_ms,
    placeholders,
    rows,
    run,
    run_many,
    unsynced,
    write_transaction,
)
from workq_core.jobs import event_log, progress
from workq_core.jobs.event_log import NewEvent
from workq_core.jobs.messages import ItemRef
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.progress import ProgressReport
from workq_core.jobs.states import CANCELLED, COMPLETED, DEAD, FINAL, RETRYING, RUNNING
from workq_core.limits import admission, gate
from workq_core.limits.admission import Starting, no_limits
from workq_core.limits.store import Declared

MAX_ERROR_TEXT = 4000
_START_SQL = (
    "UPDATE items SET status = 'running', attempts = ?, claimed_at = ?, started_at = NULL,"
    " lease_expires_at = ?, updated_at = ?, progress_done = NULL, progress_total = NULL,"
    " progress_message = NULL, progress_at = NULL WHERE id = ?"
)
# Before each item of a recovered batch: this item's handler runs from now,
# the previous one's (same claim) has ended. A crash charges only marked items.
_RUNNING_SQL = (
    "UPDATE items SET started_at = CASE WHEN id = ? THEN ? END"
    " WHERE id IN (?, ?) AND claimed_at = ? AND status = 'running'"
)
_STARTED_SQL = (
    "UPDATE items SET started_at = ? WHERE id = ? AND attempts = ? AND claimed_at = ?"
    " AND status = 'running'"
)
_OWNER_SQL = "SELECT id, status, attempts, claimed_at FROM items WHERE id IN ({marks})"
_OUTCOME_SQL = (
    "UPDATE items SET status = ?, result = ?, error_type = ?, last_error = ?,"
    " next_attempt_at = ?, started_at = ?, finished_at = ?, lease_expires_at = ?,"
    " updated_at = ? WHERE id = ?"
)
_REFUND_SQL = "UPDATE items SET attempts = ? WHERE id = ?"
_CLAIM_SQL = (
    "SELECT i.id, i.job_id, i.idx, i.data, i.status, i.attempts, i.max_attempts,"
    " i.lease_expires_at, i.dead_lettered_at, i.last_error, i.error_type,"
    " j.type, j.cancelled_at, i.next_attempt_at, j.created_at AS job_created_at,"
    " j.user_id, i.limit_scope, i.limited_since, i.started_at, i.claimed_at"
    " FROM items i JOIN jobs j ON j.id = i.job_id"
    " WHERE i.id IN ({marks})"
)
# Rows a concurrent commit holds are skipped, not waited for: they are being
# finished, and waiting could deadlock against that commit's row locks.
_RENEW_SQL = (
    "UPDATE items SET lease_expires_at = ? WHERE id IN (SELECT id FROM items"
    " WHERE status = 'running' AND (id, attempts, claimed_at) IN (VALUES {triples}){lock})"
)
_CANCELLED_SQL = "SELECT id FROM jobs WHERE cancelled_at IS NOT NULL AND id IN ({marks})"


class Verdict(enum.Enum):
    """What to do with a delivery once the database has been asked."""

    RUN = "run"  # attempt counted: run the handler
    SETTLED = "settled"  # nothing to run (done, cancelled, stale duplicate): acknowledge
    BUSY = "busy"  # another executor holds a live lease: negative-acknowledge
    DEAD_LETTER = "dead_letter"  # dead in the database, not yet in the dead-letter topic
    MISSING = "missing"  # no such item committed: acknowledge and log
    PARKED = "parked"  # over a concurrency or rate limit: parked, woken later; acknowledge


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
    due_at: int = 0  # when this attempt became due: its retry time, else the job's submission
    scopes: tuple[str, ...] = ()  # the limited keys whose slots this attempt holds
    claimed_at: int = 0  # with ``attempt``, names this claim: ownership checks compare both
    maybe_sent: bool = False  # dead letter: an earlier try may have published it, then died
    recovered: bool = False  # taken back from a claimer that stopped: its start gets marked


def claim(
    db: peewee.Database,
    refs: Sequence[ItemRef],
    lease_ms: int,
    declared: Declared = no_limits,
) -> list[Claim]:
    """Count an attempt for each item before it runs, in one transaction.

    Attempts live in the database because the broker's redelivery count resets
    with the broker. An item whose claimer stopped (its lease ran out) keeps
    its attempt number unless it was marked running (:func:`_next_attempt`),
    and is ``recovered``: its handler's start is marked from now on.
    Each verdict comes from the item's committed state, never from the
    message alone: a redelivered duplicate of a finished or
    superseded attempt is settled, an item another executor runs under a live
    lease is busy, and an item whose attempts are used up (its executor died
    mid-run) goes to dead letters. An item over a limit in force (``declared``
    by its job type, or an operator's) is parked instead of started, using no
    attempt. Claims come back in the order of ``refs``. A second copy of one
    item's message in the same batch is settled: the first copy runs it
    (counting it twice would charge the item an attempt that never ran).
    """
    now = now_ms()
    with write_transaction(db):
        # Rows locked in id order: two claims of overlapping batches (duplicate
        # messages, woken parked items) must not each wait for the other's.
        lock = " ORDER BY i.id FOR UPDATE OF i" if for_update(db) else ""
        ids = [ref.item_id for ref in refs]
        found = rows(db, _CLAIM_SQL.format(marks=placeholders(len(ids))) + lock, ids)
        by_id = {int(item["id"]): item for item in found}
        events: list[NewEvent] = []
        claims, seen = [], set()
        for ref in refs:
            duplicate = ref.item_id in seen
            seen.add(ref.item_id)
            item = by_id.get(ref.item_id)
            claims.append(
                Claim(Verdict.SETTLED)
                if duplicate
                else _claim_one(db, item, ref, now, lease_ms, events)
            )
        abandoned = [
            c.item_id
            for c in claims
            if c.verdict is Verdict.RUN and by_id[c.item_id]["status"] == RUNNING
        ]
        gate.forget_slots(db, abandoned)
        claims = _within_limits(db, claims, by_id, declared, now + lease_ms)
        started = [
            (c.attempt, now, now + lease_ms, now, c.item_id)
            for c in claims
            if c.verdict is Verdict.RUN
        ]
        run_many(db, _START_SQL, started)
        events += [
            NewEvent(c.job_id, c.index, event_log.STARTED, c.attempt, now)
            for c in claims
            if c.verdict is Verdict.RUN
        ]
        event_log.append(db, events)
        # A parked item uses no attempt: one abandoned unstarted gets its number back.
        parked = [(c.attempt, c.item_id) for c in claims if c.verdict is Verdict.PARKED]
        run_many(db, _REFUND_SQL, parked)
        return claims


def _claim_one(
    db: peewee.Database,
    item: dict[str, Any] | None,
    ref: ItemRef,
    now: int,
    lease_ms: int,
    events: list[NewEvent],
) -> Claim:
    """The item's verdict; a state it changes (cancelled, dead) gets its event in ``events``."""
    if item is None or item["job_id"] != ref.job_id:
        return Claim(Verdict.MISSING)
    verdict = _verdict(item, ref, now)
    if verdict is Verdict.SETTLED and item["cancelled_at"] and item["status"] not in FINAL:
        _set(db, item["id"], status=CANCELLED, finished_at=now, lease_expires_at=None)
        events.append(NewEvent(ref.job_id, ref.index, event_log.CANCELLED, item["attempts"], now))
    elif verdict is Verdict.DEAD_LETTER and item["status"] == DEAD:
        # Its dead letter may be in the topic already: leased while this claim checks and sends.
        _set(db, item["id"], lease_expires_at=now + lease_ms)
        return replace(_claim_from(item, verdict), maybe_sent=True)
    elif verdict is Verdict.DEAD_LETTER:
        item["error_type"] = item["error_type"] or "AttemptsExhausted"
        item["last_error"] = item["last_error"] or "attempts used up by executors that stopped"
        _set(
            db,
            item["id"],
            status=DEAD,
            finished_at=now,
            lease_expires_at=now + lease_ms,
            error_type=item["error_type"],
            last_error=item["last_error"],
        )
        events.append(
            NewEvent(
                ref.job_id, ref.index, event_log.DEAD, item["attempts"], now, item["last_error"]
            )
        )
    elif verdict is Verdict.RUN:
        recovered = item["status"] == RUNNING  # not leased, or it would be busy
        item["attempts"] = _next_attempt(item, now)  # written for the whole batch by claim()
        return replace(_claim_from(item, verdict), claimed_at=now, recovered=recovered)
    return _claim_from(item, verdict)


def _next_attempt(item: dict[str, Any], now: int) -> int:
    """The number the item's next attempt runs as.

    An item left ``running`` under an expired lease was abandoned by its
    claimer (killed, frozen, out of grace at shutdown, or its handler
    stalled). Its attempt counts only if it was marked running: by the
    start mark of a recovered claim, by the renewer giving up on a stalled
    handler, or by a release at shutdown. Other items run again under the
    same number, so the fence against their old claimer is ``claimed_at``.
    docs/reliability.md ("What a crash costs") says why a first crash is
    free and a second is not.
    """
    abandoned = item["status"] == RUNNING and (item["lease_expires_at"] or 0) <= now
    if abandoned and item["started_at"] is None:
        return int(item["attempts"])
    return int(item["attempts"]) + 1


def _due_at(item: dict[str, Any]) -> int:
    retry_due = item.get("next_attempt_at")
    return int(retry_due if retry_due is not None else item.get("job_created_at") or 0)


def _within_limits(
    db: peewee.Database,
    claims: list[Claim],
    by_id: dict[int, dict[str, Any]],
    declared: Declared,
    lease_end: int,
) -> list[Claim]:
    """Park the claims that would exceed a limit; the others hold their keys' slots."""
    starting = [
        Starting(
            c.item_id,
            c.attempt,
            c.job_type,
            c.data,
            int(by_id[c.item_id]["user_id"]),
            by_id[c.item_id]["limit_scope"],
            by_id[c.item_id]["limited_since"],
        )
        for c in claims
        if c.verdict is Verdict.RUN
    ]
    verdicts = admission.admit(db, starting, declared, lease_end)
    return [_limited(c, verdicts.get(c.item_id)) if c.verdict is Verdict.RUN else c for c in claims]


def _limited(c: Claim, verdict: tuple[str, ...] | gate.Park | None) -> Claim:
    if verdict is None:
        return c
    if isinstance(verdict, gate.Park):
        return replace(c, verdict=Verdict.PARKED, attempt=c.attempt - 1)
    return replace(c, scopes=verdict)


def _verdict(item: dict[str, Any], ref: ItemRef, now: int) -> Verdict:
    status = item["status"]
    live_lease = (item["lease_expires_at"] or 0) > now
    if status in FINAL:
        if status == DEAD and item["dead_lettered_at"] is None:
            # Leased: another executor is sending its dead letter right now.
            return Verdict.BUSY if live_lease else Verdict.DEAD_LETTER
        return Verdict.SETTLED
    leased = status == RUNNING and live_lease
    if item["cancelled_at"] and not leased:
        return Verdict.SETTLED  # waiting, or abandoned by a stopped executor: not run again
    if ref.attempt < item["attempts"] and status != RUNNING:
        return Verdict.SETTLED  # a stale copy of an attempt that already ended
    if leased:
        return Verdict.BUSY
    if _next_attempt(item, now) > item["max_attempts"]:
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
        due_at=_due_at(item),
        claimed_at=int(item["claimed_at"] or 0),
    )


@dataclass(frozen=True)
class Outcome:
    """How one claimed attempt ended: a result, or an error with a retry delay or none."""

    claim: Claim
    result_json: str | None = None
    error: BaseException | None = None
    retry_in_ms: int | None = None  # with an error: None means dead (no retry)
    duration_ms: float | None = None
    started_ms: int | None = None  # when the handler started (epoch ms)
    trace_context: str | None = None  # a retry's outbox context (telemetry.tracing)
    cancelled: bool = False  # the handler saw its job cancelled, then ended
    progress: ProgressReport | None = None  # the attempt's last progress report
    progress_unlogged: bool = False  # no progress event logged that report yet

    @property
    def kind(self) -> str:
        if self.cancelled:
            return CANCELLED
        if self.error is None:
            return COMPLETED
        return DEAD if self.retry_in_ms is None else RETRYING


def record(db: peewee.Database, outcomes: Sequence[Outcome], lease_ms: int = 0) -> list[bool]:
    """Commit every outcome in one transaction; each only if its attempt still owns the item.

    An item whose lease expired and was taken over by another executor is
    not overwritten (its flag comes back false), so an item has at most one
    committed completion. A retry adds an outbox row due after its backoff.
    Ownership is read under the write lock (row locks on PostgreSQL), then all
    owned rows are written with one batched statement. A dead item stays
    leased for ``lease_ms`` while this executor sends its dead letter.
    """
    if not outcomes:
        return []
    now = now_ms()
    with write_transaction(db):
        ids = [o.claim.item_id for o in outcomes]
        lock = " ORDER BY id" + for_update(db)
        current = rows(db, _OWNER_SQL.format(marks=placeholders(len(ids))) + lock, ids)
        owners = {
            int(r["id"]): (int(r["attempts"]), r["claimed_at"])
            for r in current
            if r["status"] == RUNNING
        }
        owned = [owners.get(o.claim.item_id) == _owner(o.claim) for o in outcomes]
        mine = [o for o, flag in zip(outcomes, owned, strict=True) if flag]
        progress.store_columns(db, [o.progress for o in mine if o.progress is not None])
        run_many(db, _OUTCOME_SQL, [_outcome_row(o, now, lease_ms) for o in mine])
        retries = [o for o in mine if o.kind == RETRYING]
        enqueue(db, [_retry_entry(o, now) for o in retries], now)
        gate.release(db, [(o.claim.item_id, o.claim.scopes) for o in mine])
        event_log.append(db, [event for o in mine for event in _outcome_events(o, now)])
        return owned


_OUTCOME_EVENTS = {
    COMPLETED: event_log.SUCCEEDED,
    RETRYING: event_log.FAILED,
    DEAD: event_log.DEAD,
    CANCELLED: event_log.CANCELLED,
}


def _outcome_events(outcome: Outcome, now: int) -> list[NewEvent]:
    """The attempt's last progress report, if no event logged it yet, then its outcome."""
    c = outcome.claim
    events = []
    if outcome.progress is not None and outcome.progress_unlogged:
        events.append(outcome.progress.event())
    detail = None
    if outcome.error is not None:
        detail = f"{type(outcome.error).__name__}: {outcome.error}"
    events.append(
        NewEvent(c.job_id, c.index, _OUTCOME_EVENTS[outcome.kind], c.attempt, now, detail)
    )
    return events


def _outcome_row(outcome: Outcome, now: int, lease_ms: int) -> tuple[Any, ...]:
    kind = outcome.kind
    error_type = text = None
    if outcome.error is not None and kind != CANCELLED:
        error_type = type(outcome.error).__name__
        text = f"{error_type}: {outcome.error}"[:MAX_ERROR_TEXT]
    result = outcome.result_json if kind == COMPLETED else None
    due = now + outcome.retry_in_ms if kind == RETRYING and outcome.retry_in_ms else None
    finished = None if kind == RETRYING else now
    started = outcome.started_ms
    lease = now + lease_ms if kind == DEAD else None
    c = outcome.claim
    return (kind, result, error_type, text, due, started, finished, lease, now, c.item_id)


def _owner(c: Claim) -> tuple[int, int]:
    return (c.attempt, c.claimed_at)


def mark_running(db: peewee.Database, c: Claim, previous: Claim | None, now: int) -> None:
    """Mark ``c`` (if recovered) running from ``now``; unmark ``previous`` (same claim).

    One small autocommitted statement before each item of a batch that
    holds recovered items, none otherwise. It need not survive a database
    crash (``unsynced``), only the executor's death.
    """
    marked = c.item_id if c.recovered else 0
    before = previous.item_id if previous is not None else c.item_id
    unsynced(db, _RUNNING_SQL, (marked, now, c.item_id, before, c.claimed_at))


def mark_started(db: peewee.Database, running: Sequence[Claim]) -> None:
    """Mark these attempts running (a stalled handler given up on, a release): they count."""
    if not running:
        return
    now = now_ms()
    params = [(now, c.item_id, c.attempt, c.claimed_at) for c in running]
    with write_transaction(db):
        run_many(db, _STARTED_SQL, params)


def _retry_entry(outcome: Outcome, now: int) -> OutboxEntry:
    c = outcome.claim
    due = now + (outcome.retry_in_ms or 0)
    return OutboxEntry(c.job_id, c.job_type, due, c.item_id, outcome.trace_context)


def renew(db: peewee.Database, held: Sequence[Claim], lease_ms: int) -> None:
    """Extend the leases of these attempts, each only while it still owns its item."""
    if not held:
        return
    triples = ", ".join(["(?, ?, ?)"] * len(held))
    sql = _RENEW_SQL.format(triples=triples, lock=for_update(db, skip_locked=True))
    params: list[Any] = [now_ms() + lease_ms]
    for c in held:
        params += [c.item_id, c.attempt, c.claimed_at]
    with write_transaction(db):
        run(db, sql, params)


def cancelled_jobs(db: peewee.Database, job_ids: Sequence[str]) -> set[str]:
    """Which of these jobs were cancelled."""
    if not job_ids:
        return set()
    found = rows(db, _CANCELLED_SQL.format(marks=placeholders(len(job_ids))), job_ids)
    return {str(row["id"]) for row in found}


def release(db: peewee.Database, c: Claim, *, running: bool) -> None:
    """Give an item back (shutdown grace ran out): its lease ends now.

    One whose handler is ``running`` is marked so: that attempt counts.
    """
    now = now_ms()
    with write_transaction(db):
        if running:
            owned = _owned_update(db, c, status=RUNNING, lease_expires_at=now, started_at=now)
        else:
            owned = _owned_update(db, c, status=RUNNING, lease_expires_at=now)
        if owned:
            gate.release(db, [(c.item_id, c.scopes)])


def mark_dead_lettered(db: peewee.Database, item_ids: Sequence[int]) -> None:
    """Record that these items' dead letters are confirmed in the dead-letter topic."""
    with write_transaction(db):
        for item_id in item_ids:
            _set(db, item_id, dead_lettered_at=now_ms(), lease_expires_at=None)


def _owned_update(db: peewee.Database, c: Claim, **values: Any) -> bool:
    """Update only while the item is still in this attempt (status running, same claim)."""
    values["updated_at"] = now_ms()
    assignments = ", ".join(f"{column} = ?" for column in values)
    cursor = run(
        db,
        f"UPDATE items SET {assignments} WHERE id = ? AND status = ? AND attempts = ?"  # noqa: S608 - column names are ours
        " AND claimed_at = ?",
        [*values.values(), c.item_id, RUNNING, c.attempt, c.claimed_at],
    )
    return cursor.rowcount == 1


def _set(db: peewee.Database, item_id: int, **values: Any) -> None:
    values["updated_at"] = now_ms()
    assignments = ", ".join(f"{column} = ?" for column in values)
    run(db, f"UPDATE items SET {assignments} WHERE id = ?", [*values.values(), item_id])  # noqa: S608

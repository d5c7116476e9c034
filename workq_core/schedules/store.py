"""The ``schedules`` table: create, read, pause, resume, change and delete, owner-checked.

A :class:`Viewer` is who asks: owners reach their own schedules, admins
every schedule; anyone else's reads as missing, as jobs do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db.sql import for_update, now_ms, placeholders, rows, run, write_transaction
from workq_core.errors import InvalidPayload
from workq_core.schedules.spec import ScheduleRecord, ScheduleSpec

SCHEDULE_NOT_FOUND = "No such schedule."
_COLUMNS = (
    "id, user_id, name, job_type, data, cron, timezone, interval_ms, missed_policy,"
    " max_catch_up, overlap_policy, next_run_at, paused_at, last_run_at, last_job_id, runs,"
    " skipped_runs, last_skip_reason, source, created_at, updated_at"
)
SELECT_SCHEDULES = f"SELECT {_COLUMNS} FROM schedules"  # noqa: S608 - constant column list
# What a user defines (and may change), in the order of ``_definition``.
_DEFINITION = (
    "name",
    "data",
    "cron",
    "timezone",
    "interval_ms",
    "missed_policy",
    "max_catch_up",
    "overlap_policy",
)
_INSERT_SQL = (
    "INSERT INTO schedules (id, user_id, job_type, "  # noqa: S608 - constant column names
    + ", ".join(_DEFINITION)
    + ", next_run_at, paused_at, source, created_at, updated_at)"
    + f" VALUES ({placeholders(len(_DEFINITION) + 8)})"
)
_UPDATE_SQL = (
    "UPDATE schedules SET "  # noqa: S608 - constant column names
    + ", ".join(f"{column} = ?" for column in _DEFINITION)
    + ", next_run_at = ?, updated_at = ? WHERE id = ?"
)
_DUE = SELECT_SCHEDULES + " WHERE id = ? AND paused_at IS NULL AND next_run_at <= ?"
_VISIBLE = " WHERE id = ? AND (user_id = ? OR 1 = ?)"


class ScheduleNotFound(InvalidPayload):
    """No schedule with that id is visible to this user (another user's reads the same)."""

    def __init__(self) -> None:
        super().__init__(SCHEDULE_NOT_FOUND, field="id")


@dataclass(frozen=True)
class Viewer:
    """The user asking, and whether they are an admin (who reaches every schedule)."""

    user_id: int
    admin: bool = False

    def params(self, schedule_id: str) -> tuple[Any, ...]:
        return (schedule_id, self.user_id, 1 if self.admin else 0)


def viewer_for(db: peewee.Database, user_id: int) -> Viewer:
    """The user's role from the shared ``users`` table (the auth service's token says only who)."""
    found = rows(db, "SELECT role FROM users WHERE id = ?", (user_id,))
    return Viewer(user_id, admin=bool(found) and found[0]["role"] == "admin")


def insert(
    db: peewee.Database,
    user_id: int,
    spec: ScheduleSpec,
    *,
    paused: bool = False,
    source: str | None = None,
) -> ScheduleRecord:
    """Store a new schedule whose first run is the cadence's first after now."""
    now = now_ms()
    schedule_id = str(uuid.uuid4())
    params = (schedule_id, user_id, spec.job_type, *_definition(spec))
    params += (spec.cadence.next_after(now), now if paused else None, source, now, now)
    with write_transaction(db), _unique_name(spec):
        run(db, _INSERT_SQL, params)
    found = get(db, schedule_id)
    assert found is not None
    return found


def get(db: peewee.Database, schedule_id: str) -> ScheduleRecord | None:
    found = rows(db, SELECT_SCHEDULES + " WHERE id = ?", (schedule_id,))
    return ScheduleRecord.from_row(found[0]) if found else None


def find(db: peewee.Database, viewer: Viewer, schedule_id: str) -> ScheduleRecord | None:
    found = rows(db, SELECT_SCHEDULES + _VISIBLE, viewer.params(schedule_id))
    return ScheduleRecord.from_row(found[0]) if found else None


def locked_if_due(db: peewee.Database, schedule_id: str, now: int) -> ScheduleRecord | None:
    """The schedule, row-locked, if unpaused and due at ``now`` (in the caller's transaction)."""
    found = rows(db, _DUE + for_update(db), (schedule_id, now))
    return ScheduleRecord.from_row(found[0]) if found else None


def find_named(db: peewee.Database, user_id: int, name: str) -> ScheduleRecord | None:
    found = rows(db, SELECT_SCHEDULES + " WHERE user_id = ? AND name = ?", (user_id, name))
    return ScheduleRecord.from_row(found[0]) if found else None


def listing(
    db: peewee.Database, viewer: Viewer, *, first: int, offset: int
) -> list[ScheduleRecord]:
    """The viewer's schedules (an admin's: everyone's), oldest first."""
    found = rows(
        db,
        SELECT_SCHEDULES + " WHERE user_id = ? OR 1 = ? ORDER BY created_at, id LIMIT ? OFFSET ?",
        (viewer.user_id, 1 if viewer.admin else 0, first, offset),
    )
    return [ScheduleRecord.from_row(row) for row in found]


def set_paused(
    db: peewee.Database, viewer: Viewer, schedule_id: str, paused: bool
) -> ScheduleRecord:
    """Pause, or resume from the first run after now: runs while paused are not caught up."""
    with write_transaction(db):
        record = _locked(db, viewer, schedule_id)
        now = now_ms()
        if paused and record.paused_at is None:
            run(
                db,
                "UPDATE schedules SET paused_at = ?, updated_at = ? WHERE id = ?",
                (now, now, schedule_id),
            )
        elif not paused and record.paused_at is not None:
            run(
                db,
                "UPDATE schedules SET paused_at = NULL, next_run_at = ?, updated_at = ?"
                " WHERE id = ?",
                (record.cadence.next_after(now), now, schedule_id),
            )
    return _reloaded(db, schedule_id)


def replace(
    db: peewee.Database, viewer: Viewer, schedule_id: str, spec: ScheduleSpec
) -> ScheduleRecord:
    """A new definition; the next run is recomputed from now when the timing changed."""
    with write_transaction(db):
        record = _locked(db, viewer, schedule_id)
        now = now_ms()
        next_run = record.next_run_at
        if spec.cadence != record.cadence:
            next_run = spec.cadence.next_after(now)
        with _unique_name(spec):
            run(db, _UPDATE_SQL, (*_definition(spec), next_run, now, schedule_id))
    return _reloaded(db, schedule_id)


def delete(db: peewee.Database, viewer: Viewer, schedule_id: str) -> None:
    """Remove the schedule; jobs it already submitted stay, as any job does."""
    with write_transaction(db):
        _locked(db, viewer, schedule_id)
        run(db, "DELETE FROM schedules WHERE id = ?", (schedule_id,))


def _definition(spec: ScheduleSpec) -> tuple[Any, ...]:
    """The values of ``_DEFINITION`` for ``spec``."""
    cadence = spec.cadence
    return (
        spec.name,
        spec.data_json,
        cadence.cron,
        cadence.timezone if cadence.cron else None,
        cadence.interval_ms,
        spec.missed,
        spec.max_catch_up,
        spec.overlap,
    )


@contextmanager
def _unique_name(spec: ScheduleSpec) -> Iterator[None]:
    try:
        yield
    except peewee.IntegrityError:
        raise InvalidPayload(
            f"you already have a schedule named {spec.name!r}", field="name"
        ) from None


def _locked(db: peewee.Database, viewer: Viewer, schedule_id: str) -> ScheduleRecord:
    found = rows(db, SELECT_SCHEDULES + _VISIBLE + for_update(db), viewer.params(schedule_id))
    if not found:
        raise ScheduleNotFound()
    return ScheduleRecord.from_row(found[0])


def _reloaded(db: peewee.Database, schedule_id: str) -> ScheduleRecord:
    found = get(db, schedule_id)
    if found is None:
        raise ScheduleNotFound()
    return found

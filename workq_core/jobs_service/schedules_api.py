"""What the jobs service does with schedules for a user, independent of GraphQL.

Owners manage their own schedules; admins see and manage everyone's (the
system user's default schedules among them). Another user's schedule reads
as missing. Each definition is checked whole (timing, policies, and every
item against the job type's input schema) before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workq_core.db import database_errors
from workq_core.errors import InvalidPayload
from workq_core.jobs.ids import is_job_id
from workq_core.jobs_service.api import JobsApi
from workq_core.schedules import store
from workq_core.schedules.firing import Submitter
from workq_core.schedules.spec import (
    DEFAULT_CATCH_UP,
    RUN_ONCE,
    SKIP,
    ScheduleRecord,
    ScheduleSpec,
    schedule_spec,
)
from workq_core.validation import validate_items

MAX_PAGE = 1000


@dataclass
class SchedulesApi:
    """``poke`` tells this process's scheduler to look again (a schedule changed here)."""

    jobs: JobsApi
    poke: Callable[[], None] = lambda: None

    @property
    def db(self) -> Any:
        return self.jobs.db

    def create(self, user_id: int, fields: Mapping[str, Any]) -> ScheduleRecord:
        spec = self._spec(fields)
        with database_errors():
            record = store.insert(self.db, user_id, spec, paused=bool(fields.get("paused")))
        self.poke()
        return record

    def update(self, user_id: int, schedule_id: str, changes: Mapping[str, Any]) -> ScheduleRecord:
        """Change some fields; those not given keep their value."""
        viewer = self._viewer(user_id, schedule_id)
        with database_errors():
            record = store.find(self.db, viewer, schedule_id)
            if record is None:
                raise store.ScheduleNotFound()
            spec = self._spec(_merged(record, changes))
            updated = store.replace(self.db, viewer, schedule_id, spec)
        self.poke()
        return updated

    def find(self, user_id: int, schedule_id: str) -> ScheduleRecord | None:
        if not is_job_id(schedule_id):  # schedule ids have the form of job ids
            return None
        with database_errors():
            return store.find(self.db, store.viewer_for(self.db, user_id), schedule_id)

    def listing(self, user_id: int, *, first: int, offset: int) -> list[ScheduleRecord]:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidPayload(f"first must be between 1 and {MAX_PAGE}.", field="first")
        if offset < 0:
            raise InvalidPayload("offset must not be negative.", field="offset")
        with database_errors():
            viewer = store.viewer_for(self.db, user_id)
            return store.listing(self.db, viewer, first=first, offset=offset)

    def set_paused(self, user_id: int, schedule_id: str, paused: bool) -> ScheduleRecord:
        viewer = self._viewer(user_id, schedule_id)
        with database_errors():
            record = store.set_paused(self.db, viewer, schedule_id, paused)
        self.poke()
        return record

    def delete(self, user_id: int, schedule_id: str) -> None:
        viewer = self._viewer(user_id, schedule_id)
        with database_errors():
            store.delete(self.db, viewer, schedule_id)

    def _viewer(self, user_id: int, schedule_id: str) -> store.Viewer:
        if not is_job_id(schedule_id):
            raise store.ScheduleNotFound()
        with database_errors():
            return store.viewer_for(self.db, user_id)

    def _spec(self, fields: Mapping[str, Any]) -> ScheduleSpec:
        """Timing and policies first (cheap), then the job type and every item."""
        spec = schedule_spec(
            name=fields["name"],
            job_type=fields["jobType"],
            items=[],
            cron=fields.get("cron"),
            timezone=fields.get("timeZone"),
            interval_s=fields.get("intervalSeconds"),
            missed=fields.get("missedRuns") or RUN_ONCE,
            max_catch_up=_given(fields.get("maxCatchUp"), DEFAULT_CATCH_UP),
            overlap=fields.get("overlap") or SKIP,
        )
        job_type = self.jobs.job_type(spec.job_type)
        items = self.jobs.items_of(fields["data"])
        validate_items(job_type, items)
        return ScheduleSpec(
            name=spec.name,
            job_type=job_type.name,
            items=tuple(items),
            cadence=spec.cadence,
            missed=spec.missed,
            max_catch_up=spec.max_catch_up,
            overlap=spec.overlap,
        )


def submitter_for(jobs: JobsApi) -> Submitter:
    """How the scheduler checks a run's items, picks its attempts and charges the owner's
    quotas, as executeJob does (the charge exact, in the firing transaction)."""

    def prepare(name: str, items: list[dict[str, Any]]) -> int:
        job_type = jobs.job_type(name)
        validate_items(job_type, items)
        return jobs.max_attempts(job_type)

    return Submitter(prepare, jobs.quotas)


def _merged(record: ScheduleRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields as input, with ``changes`` (non-null ones) on top.

    Giving ``cron`` switches to cron timing, giving ``intervalSeconds`` to an
    interval; ``timeZone`` alone moves a cron schedule to another zone.
    """
    cadence = record.cadence
    fields: dict[str, Any] = {
        "name": record.name,
        "jobType": record.job_type,
        "data": record.data,
        "cron": cadence.cron,
        "timeZone": cadence.timezone if cadence.cron else None,
        "intervalSeconds": None if cadence.interval_ms is None else cadence.interval_ms // 1000,
        "missedRuns": record.missed,
        "maxCatchUp": record.max_catch_up,
        "overlap": record.overlap,
    }
    given = {key: value for key, value in changes.items() if value is not None}
    if "cron" in given:
        fields["intervalSeconds"] = None
    if "intervalSeconds" in given:
        fields["cron"] = fields["timeZone"] = None
    return {**fields, **given}


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value

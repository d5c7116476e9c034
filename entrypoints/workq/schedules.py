"""Schedules in the Python client: the ``Schedule`` value and each schedule call as data.

Shared by ``Client`` and ``AsyncClient`` (docs/schedules.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

from workq.errors import ScheduleNotFound
from workq.operations import Data, Operation
from workq.values import _Record


@dataclass(frozen=True)
class Schedule(_Record):
    """A schedule as of the read that returned it.

    Exactly one of ``cron`` (with ``timezone``) and ``interval_s`` is set;
    ``last_job_id`` is the job its last run submitted.
    """

    API: ClassVar[dict[str, str]] = {
        "id": "id",
        "name": "name",
        "ownerId": "owner_id",
        "jobType": "job_type",
        "data": "data",
        "cron": "cron",
        "timeZone": "timezone",
        "intervalSeconds": "interval_s",
        "missedRuns": "missed_runs",
        "maxCatchUp": "max_catch_up",
        "overlap": "overlap",
        "paused": "paused",
        "nextRunAt": "next_run_at",
        "lastRunAt": "last_run_at",
        "lastJobId": "last_job_id",
        "runs": "runs",
        "skippedRuns": "skipped_runs",
        "lastSkipReason": "last_skip_reason",
        "source": "source",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
    }
    TIMES: ClassVar[frozenset[str]] = frozenset(
        {"next_run_at", "last_run_at", "created_at", "updated_at"}
    )

    id: str
    name: str
    owner_id: str
    job_type: str
    data: list[dict[str, Any]]
    cron: str | None
    timezone: str | None
    interval_s: int | None
    missed_runs: str
    max_catch_up: int
    overlap: str
    paused: bool
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    last_job_id: str | None
    runs: int
    skipped_runs: int
    last_skip_reason: str | None
    source: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class _Timing(TypedDict, total=False):
    """The fields that say when a schedule runs; shared by creating and changing one."""

    cron: str
    timezone: str
    interval_s: int
    missed_runs: str
    max_catch_up: int
    overlap: str


class ScheduleOptions(_Timing, total=False):
    """When a schedule runs and what it does about misses and overlaps (docs/schedules.md).

    ``cron`` (five fields, in ``timezone``, an IANA name, default UTC) or
    ``interval_s``; ``missed_runs`` SKIP, RUN_ONCE (default) or RUN_ALL, up to
    ``max_catch_up`` (default 10) runs; ``overlap`` SKIP (default) or ALLOW;
    ``paused`` to create it paused.
    """

    paused: bool


class ScheduleChanges(_Timing, total=False):
    """What ``update_schedule`` may change; ``cron`` or ``interval_s`` switches the timing."""

    name: str
    data: dict[str, Any] | list[dict[str, Any]]


SCHEDULE = Schedule.selection()

CREATE = f"""mutation CreateSchedule($input: CreateScheduleInput!) {{
  createSchedule(input: $input) {{ {SCHEDULE} }} }}"""
UPDATE = f"""mutation UpdateSchedule($id: ID!, $input: UpdateScheduleInput!) {{
  updateSchedule(id: $id, input: $input) {{ {SCHEDULE} }} }}"""
ONE = f"""query Schedule($id: ID!) {{ schedule(id: $id) {{ {SCHEDULE} }} }}"""
PAGE = f"""query Schedules($first: Int!, $offset: Int!) {{
  schedules(first: $first, offset: $offset) {{ {SCHEDULE} }} }}"""
PAUSE = f"""mutation PauseSchedule($id: ID!) {{ pauseSchedule(id: $id) {{ {SCHEDULE} }} }}"""
RESUME = f"""mutation ResumeSchedule($id: ID!) {{ resumeSchedule(id: $id) {{ {SCHEDULE} }} }}"""
DELETE = "mutation DeleteSchedule($id: ID!) { deleteSchedule(id: $id) }"

# Python keyword -> GraphQL input field, for create and update.
_FIELDS = {
    "name": "name",
    "data": "data",
    "cron": "cron",
    "timezone": "timeZone",
    "interval_s": "intervalSeconds",
    "missed_runs": "missedRuns",
    "max_catch_up": "maxCatchUp",
    "overlap": "overlap",
    "paused": "paused",
}


_schedule = Schedule.from_dict


def _input(fields: Mapping[str, Any]) -> Data:
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise TypeError(f"unknown schedule field(s): {', '.join(unknown)}")
    return {_FIELDS[key]: value for key, value in fields.items() if value is not None}


def create(name: str, job_type: str, data: Any, options: ScheduleOptions) -> Operation[Schedule]:
    variables = {"input": {"jobType": job_type, **_input({"name": name, "data": data, **options})}}
    return Operation("jobs", CREATE, lambda out, _url: _schedule(out["createSchedule"]), variables)


def update(schedule_id: str, changes: ScheduleChanges) -> Operation[Schedule]:
    variables = {"id": schedule_id, "input": _input(changes)}
    return Operation(
        "jobs",
        UPDATE,
        lambda out, _url: _schedule(out["updateSchedule"]),
        variables,
        schedule_id=schedule_id,
    )


def one(schedule_id: str) -> Operation[Schedule]:
    def read(data: Data, url: str) -> Schedule:
        if data["schedule"] is None:
            raise ScheduleNotFound(schedule_id, url=url)
        return _schedule(data["schedule"])

    return Operation("jobs", ONE, read, {"id": schedule_id}, schedule_id=schedule_id)


def page(first: int, offset: int) -> Operation[list[Schedule]]:
    return Operation(
        "jobs",
        PAGE,
        lambda out, _url: [_schedule(node) for node in out["schedules"]],
        {"first": first, "offset": offset},
    )


def set_paused(schedule_id: str, paused: bool) -> Operation[Schedule]:
    field = "pauseSchedule" if paused else "resumeSchedule"
    return Operation(
        "jobs",
        PAUSE if paused else RESUME,
        lambda out, _url: _schedule(out[field]),
        {"id": schedule_id},
        schedule_id=schedule_id,
    )


def delete(schedule_id: str) -> Operation[bool]:
    return Operation(
        "jobs",
        DELETE,
        lambda out, _url: bool(out["deleteSchedule"]),
        {"id": schedule_id},
        schedule_id=schedule_id,
    )

"""GraphQL resolvers of the schedule fields of ``jobs.graphql``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from workq_core.jobs_service.resolvers import current_user_id
from workq_core.jobs_service.schedules_api import SchedulesApi
from workq_core.jobs_service.views import JobView, iso
from workq_core.schedules.spec import ScheduleRecord
from workq_core.web import Resolvers


def _api(info: GraphQLResolveInfo) -> SchedulesApi:
    return info.context.extra["schedules"]


def schedules(
    _root: Any, info: GraphQLResolveInfo, first: int | None = 100, offset: int | None = 0
) -> list[ScheduleRecord]:
    user_id = current_user_id(info)
    first = 100 if first is None else first  # an explicit null means the default
    return _api(info).listing(user_id, first=first, offset=offset or 0)


def schedule(_root: Any, info: GraphQLResolveInfo, id: str) -> ScheduleRecord | None:
    return _api(info).find(current_user_id(info), id)


def create_schedule(_root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> ScheduleRecord:
    return _api(info).create(current_user_id(info), input)


def update_schedule(
    _root: Any, info: GraphQLResolveInfo, id: str, input: dict[str, Any]
) -> ScheduleRecord:
    return _api(info).update(current_user_id(info), id, input)


def pause_schedule(_root: Any, info: GraphQLResolveInfo, id: str) -> ScheduleRecord:
    return _api(info).set_paused(current_user_id(info), id, True)


def resume_schedule(_root: Any, info: GraphQLResolveInfo, id: str) -> ScheduleRecord:
    return _api(info).set_paused(current_user_id(info), id, False)


def delete_schedule(_root: Any, info: GraphQLResolveInfo, id: str) -> bool:
    _api(info).delete(current_user_id(info), id)
    return True


def last_job(record: ScheduleRecord, info: GraphQLResolveInfo) -> JobView | None:
    """The owner's job; an admin reading someone's schedule sees it too."""
    if record.last_job_id is None:
        return None
    jobs = _api(info).jobs
    found = jobs.find_job(record.user_id, record.last_job_id)
    return None if found is None else jobs.views([found])[0]


def _field(get: Any) -> Any:
    return lambda record, _info: get(record)


SCHEDULE_FIELDS = {
    "ownerId": _field(lambda r: r.user_id),
    "jobType": _field(lambda r: r.job_type),
    "cron": _field(lambda r: r.cadence.cron),
    "timeZone": _field(lambda r: r.cadence.timezone if r.cadence.cron else None),
    "intervalSeconds": _field(
        lambda r: None if r.cadence.interval_ms is None else r.cadence.interval_ms // 1000
    ),
    "missedRuns": _field(lambda r: r.missed),
    "maxCatchUp": _field(lambda r: r.max_catch_up),
    "overlap": _field(lambda r: r.overlap),
    "paused": _field(lambda r: r.paused_at is not None),
    "nextRunAt": _field(lambda r: iso(r.next_run_at)),
    "lastRunAt": _field(lambda r: iso(r.last_run_at)),
    "lastJobId": _field(lambda r: r.last_job_id),
    "lastJob": last_job,
    "runs": _field(lambda r: r.runs),
    "skippedRuns": _field(lambda r: r.skipped_runs),
    "lastSkipReason": _field(lambda r: r.last_skip_reason),
    "createdAt": _field(lambda r: iso(r.created_at)),
    "updatedAt": _field(lambda r: iso(r.updated_at)),
}

SCHEDULE_RESOLVERS: Resolvers = {
    "Query": {"schedules": schedules, "schedule": schedule},
    "Mutation": {
        "createSchedule": create_schedule,
        "updateSchedule": update_schedule,
        "pauseSchedule": pause_schedule,
        "resumeSchedule": resume_schedule,
        "deleteSchedule": delete_schedule,
    },
    "Schedule": SCHEDULE_FIELDS,
}

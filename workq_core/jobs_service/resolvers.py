"""GraphQL resolvers of ``jobs.graphql``: authenticate, call the JobsApi, shape the answer."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from workq_core.db.sql import now_ms
from workq_core.errors import AuthError
from workq_core.jobs.queries import ItemRecord, JobRecord
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.limit_resolvers import (
    LIMIT_ITEM_FIELDS,
    LIMIT_MUTATIONS,
    LIMIT_QUERIES,
)
from workq_core.jobs_service.live import EVENT_FIELDS, SUBSCRIPTION_FIELDS
from workq_core.jobs_service.queue_order import queue_order
from workq_core.jobs_service.quota_resolvers import QUOTA_MUTATIONS, QUOTA_QUERIES
from workq_core.jobs_service.views import (
    ITEM_FIELDS,
    JOB_FIELDS,
    JobView,
    decode_cursor,
    encode_cursor,
    iso,
)
from workq_core.web import Resolvers


def _api(info: GraphQLResolveInfo) -> JobsApi:
    return info.context.extra["jobs"]


def _user_id(info: GraphQLResolveInfo) -> int:
    """Every operation needs a user the auth service vouches for; Unavailable denies too."""
    user = info.context.require_user()
    user_id = getattr(user, "id", None)
    if user_id is None:
        raise AuthError("Not authenticated.")
    return int(user_id)


current_user_id = _user_id  # the schedule resolvers authenticate the same way


def _views(info: GraphQLResolveInfo, records: list[JobRecord]) -> list[JobView]:
    return _api(info).views(records)


def job_types(_root: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    _user_id(info)
    return [
        {"name": t.name, "description": t.description, "inputSchema": dict(t.input_schema)}
        for t in _api(info).job_types()
    ]


def job(_root: Any, info: GraphQLResolveInfo, id: str) -> JobView | None:
    record = _api(info).find_job(_user_id(info), id)
    return None if record is None else _views(info, [record])[0]


def my_jobs(
    _root: Any,
    info: GraphQLResolveInfo,
    first: int | None = 20,
    after: str | None = None,
    status: str | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    user_id = _user_id(info)
    first = 20 if first is None else first  # an explicit null means the default
    records, more = _api(info).list_jobs(
        user_id,
        first=first,
        after=decode_cursor(after) if after else None,
        status=status,
        job_type=type,
    )
    return {
        "nodes": _views(info, records),
        "nextCursor": encode_cursor(records[-1]) if more and records else None,
    }


def execute_job(
    _root: Any,
    info: GraphQLResolveInfo,
    executeJobInput: dict[str, Any],
) -> JobView:
    user_id = _user_id(info)
    record = _api(info).submit(
        user_id,
        executeJobInput["name"],
        executeJobInput["data"],
        executeJobInput.get("idempotencyKey"),
        queue_order(executeJobInput, now_ms()),
    )
    return _views(info, [record])[0]


def cancel_job(_root: Any, info: GraphQLResolveInfo, id: str) -> JobView:
    return _views(info, [_api(info).cancel(_user_id(info), id)])[0]


def retry_dead_items(_root: Any, info: GraphQLResolveInfo, id: str) -> JobView:
    return _views(info, [_api(info).retry_dead(_user_id(info), id)])[0]


def job_items(
    job: JobView,
    info: GraphQLResolveInfo,
    first: int | None = 100,
    offset: int | None = 0,
    status: str | None = None,
) -> list[ItemRecord]:
    """Ownership was checked when the job was resolved; the API bounds the page."""
    first = 100 if first is None else first  # an explicit null means the default
    offset = 0 if offset is None else offset
    info.context.extra.setdefault("item_jobs", {})[job.record.id] = job.record
    return _api(info).list_items(job.record, first=first, offset=offset, status=status)


def item_waiting_for(item: ItemRecord, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    """Facts about the item's job are read once for all items of one request."""
    job = info.context.extra["item_jobs"][item.job_id]
    facts = info.context.extra.setdefault("wait_facts", {})
    found = _api(info).waiting_for(item, job, facts)
    if found is None:
        return None
    return {"reason": found.reason, "until": iso(found.until), "detail": found.detail}


RESOLVERS: Resolvers = {
    "Query": {"jobs": job_types, "job": job, "myJobs": my_jobs, **LIMIT_QUERIES, **QUOTA_QUERIES},
    "Mutation": {
        "executeJob": execute_job,
        "cancelJob": cancel_job,
        "retryDeadItems": retry_dead_items,
        **LIMIT_MUTATIONS,
        **QUOTA_MUTATIONS,
    },
    "Job": {**JOB_FIELDS, "items": job_items},
    "Item": {**ITEM_FIELDS, **LIMIT_ITEM_FIELDS, "waitingFor": item_waiting_for},
    "Subscription": SUBSCRIPTION_FIELDS,
    "ItemEvent": EVENT_FIELDS,
}

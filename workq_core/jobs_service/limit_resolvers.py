"""GraphQL resolvers of the limits: ``jobTypeLimits``, ``setJobTypeLimits``, ``Item.limitedBy``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from graphql import GraphQLResolveInfo

from workq_core.jobs.queries import ItemRecord
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.views import iso
from workq_core.limits import admin
from workq_core.limits.store import LimitsInForce, declared_by
from workq_core.limits.waits import limit_wait


def _api(info: GraphQLResolveInfo) -> JobsApi:
    return info.context.extra["jobs"]


def _user_id(info: GraphQLResolveInfo) -> int:
    return int(info.context.require_user().id)


def _declared(api: JobsApi) -> Any:
    return lambda name: declared_by(api.job_type(name))


def _shape(found: LimitsInForce) -> dict[str, Any]:
    return {
        "name": found.job_type,
        "limits": [
            {"key": x.key, "concurrency": x.concurrency, "rate": x.rate, "perS": x.per_s}
            for x in found.limits
        ],
        "source": found.source,
        "updatedAt": iso(found.updated_at),
    }


def job_type_limits(
    _root: Any, info: GraphQLResolveInfo, name: str | None = None
) -> list[dict[str, Any]]:
    _user_id(info)
    api = _api(info)
    names = [api.job_type(name).name] if name is not None else [t.name for t in api.job_types()]
    return [_shape(found) for found in admin.show(api.db, names, _declared(api))]


def set_job_type_limits(
    _root: Any, info: GraphQLResolveInfo, name: str, limits: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    user_id = _user_id(info)
    api = _api(info)
    job_type = api.job_type(name).name
    raw = None if limits is None else [_snake(entry) for entry in limits]
    found = admin.change(api.db, user_id, job_type, raw, _declared(api))
    api.wake()
    return _shape(found)


def _snake(entry: dict[str, Any]) -> dict[str, Any]:
    return {("per_s" if k == "perS" else k): v for k, v in entry.items()}


def item_limited_by(item: ItemRecord, _info: GraphQLResolveInfo) -> dict[str, Any] | None:
    wait = limit_wait(item.status, item.limit_scope, item.limit_reason, item.limited_until)
    if wait is None:
        return None
    return {**asdict(wait), "until": iso(wait.until)}


LIMIT_QUERIES = {"jobTypeLimits": job_type_limits}
LIMIT_MUTATIONS = {"setJobTypeLimits": set_job_type_limits}
LIMIT_ITEM_FIELDS = {"limitedBy": item_limited_by}

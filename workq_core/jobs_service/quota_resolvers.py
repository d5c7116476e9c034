"""GraphQL resolvers of the quotas: ``myQuota``, ``userQuota``, ``setUserQuota``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from workq_core.db import database_errors
from workq_core.jobs_service import quota_admin
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.quota_admin import QuotaView, UserRef

_ARGUMENTS = {"itemsPerMinute": "items_per_minute", "itemsWaiting": "items_waiting"}


def _api(info: GraphQLResolveInfo) -> JobsApi:
    return info.context.extra["jobs"]


def _user_id(info: GraphQLResolveInfo) -> int:
    return int(info.context.require_user().id)


def _shape(view: QuotaView) -> dict[str, Any]:
    return {
        "userId": str(view.user_id),
        "itemsPerMinute": view.items_per_minute,
        "itemsWaiting": view.items_waiting,
        "itemsPerMinuteSource": view.per_minute_source.upper(),
        "itemsWaitingSource": view.waiting_source.upper(),
        "usedThisMinute": view.used_this_minute,
        "waiting": view.waiting,
    }


def my_quota(_root: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    api = _api(info)
    with database_errors():
        return _shape(quota_admin.show(api.db, api.settings.jobs, _user_id(info)))


def user_quota(
    _root: Any, info: GraphQLResolveInfo, userId: str | None = None, email: str | None = None
) -> dict[str, Any]:
    api = _api(info)
    user = UserRef(userId, email)
    with database_errors():
        return _shape(quota_admin.show_other(api.db, api.settings.jobs, _user_id(info), user))


def set_user_quota(
    _root: Any,
    info: GraphQLResolveInfo,
    userId: str | None = None,
    email: str | None = None,
    **given: int | None,
) -> dict[str, Any]:
    api = _api(info)
    changes = {_ARGUMENTS[name]: value for name, value in given.items()}
    user = UserRef(userId, email)
    with database_errors():
        view = quota_admin.set_override(api.db, api.settings.jobs, _user_id(info), user, changes)
    return _shape(view)


QUOTA_QUERIES: dict[str, Callable[..., Any]] = {"myQuota": my_quota, "userQuota": user_quota}
QUOTA_MUTATIONS: dict[str, Callable[..., Any]] = {"setUserQuota": set_user_quota}

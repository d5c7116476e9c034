"""The Workq API from Python: ``Client`` and its asyncio twin ``AsyncClient`` (docs/client.md)."""

from workq.aio import AsyncClient
from workq.client import Client
from workq.errors import (
    BadInput,
    Forbidden,
    JobNotFound,
    NotFound,
    QuotaExceeded,
    RateLimited,
    ScheduleNotFound,
    ServerError,
    Timeout,
    Unauthenticated,
    Unavailable,
    Unreachable,
    WorkqClientError,
)
from workq.operations import QuotaChanges
from workq.schedules import Schedule, ScheduleChanges, ScheduleOptions
from workq.values import (
    FINAL_STATUSES,
    Item,
    ItemEvent,
    ItemProgress,
    Job,
    JobTypeLimits,
    Limit,
    Quota,
    User,
    WaitingFor,
)

__all__ = [
    "FINAL_STATUSES",
    "AsyncClient",
    "BadInput",
    "Client",
    "Forbidden",
    "Item",
    "ItemEvent",
    "ItemProgress",
    "Job",
    "JobNotFound",
    "JobTypeLimits",
    "Limit",
    "NotFound",
    "Quota",
    "QuotaChanges",
    "QuotaExceeded",
    "RateLimited",
    "Schedule",
    "ScheduleChanges",
    "ScheduleNotFound",
    "ScheduleOptions",
    "ServerError",
    "Timeout",
    "Unauthenticated",
    "Unavailable",
    "Unreachable",
    "User",
    "WaitingFor",
    "WorkqClientError",
]

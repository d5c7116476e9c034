"""The Workq API from Python: ``Client`` and its asyncio twin ``AsyncClient`` (docs/client.md)."""

from workq.aio import AsyncClient
from workq.client import Client
from workq.errors import (
    BadInput,
    JobNotFound,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    Unauthenticated,
    Unavailable,
    Unreachable,
    WorkqClientError,
)
from workq.values import FINAL_STATUSES, Item, Job, User, WaitingFor

__all__ = [
    "FINAL_STATUSES",
    "AsyncClient",
    "BadInput",
    "Client",
    "Item",
    "Job",
    "JobNotFound",
    "NotFound",
    "RateLimited",
    "ServerError",
    "Timeout",
    "Unauthenticated",
    "Unavailable",
    "Unreachable",
    "User",
    "WaitingFor",
    "WorkqClientError",
]

"""What the API answers, as frozen dataclasses: jobs, their items, users, limits, quotas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


class _Record:
    """Maps a dataclass to its GraphQL type, so the fields asked for are exactly those parsed.

    ``API`` is GraphQL field -> attribute; ``TIMES`` are the attributes the API
    sends as ISO-8601 UTC strings and Python users want as aware datetimes.
    """

    API: ClassVar[dict[str, str]]
    TIMES: ClassVar[frozenset[str]] = frozenset()
    #: attribute -> the record type of a nested object field (may be null)
    NESTED: ClassVar[dict[str, type[_Record]]] = {}

    @classmethod
    def selection(cls) -> str:
        return " ".join(
            f"{field} {{ {cls.NESTED[attr].selection()} }}" if attr in cls.NESTED else field
            for field, attr in cls.API.items()
        )

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Self:
        """From the API's record (camelCase keys, ISO times)."""
        values = {attr: record[field] for field, attr in cls.API.items()}
        for attr in cls.TIMES:
            values[attr] = _parse_time(values[attr])
        for attr, kind in cls.NESTED.items():
            if values[attr] is not None:
                values[attr] = kind.from_dict(values[attr])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The API's record again (camelCase keys, ISO times): for JSON output."""
        return {field: self._field(attr) for field, attr in self.API.items()}

    def _field(self, attr: str) -> Any:
        value = getattr(self, attr)
        if attr in self.TIMES:
            return _format_time(value)
        if attr in self.NESTED and value is not None:
            return value.to_dict()
        return value


def _parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _format_time(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Job(_Record):
    """A job as of the read that returned it: its type, status and item counts.

    ``failed`` is ``retrying + dead`` (the counts overlap, as in the API);
    ``finished_at`` is None until every item is final.
    """

    API: ClassVar[dict[str, str]] = {
        "id": "id",
        "name": "type",
        "description": "description",
        "status": "status",
        "size": "size",
        "queued": "queued",
        "running": "running",
        "retrying": "retrying",
        "completed": "completed",
        "failed": "failed",
        "dead": "dead",
        "cancelled": "cancelled",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "finishedAt": "finished_at",
        "cancelledAt": "cancelled_at",
        "runAt": "run_at",
        "priority": "priority",
    }
    TIMES: ClassVar[frozenset[str]] = frozenset(
        {"created_at", "updated_at", "finished_at", "cancelled_at", "run_at"}
    )

    id: str
    type: str
    description: str
    status: str
    size: int
    queued: int
    running: int
    retrying: int
    completed: int
    failed: int
    dead: int
    cancelled: int
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    run_at: dt.datetime | None
    priority: int

    @property
    def done(self) -> bool:
        """Whether the status is final (completed, failed or cancelled): nothing will change."""
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class WaitingFor(_Record):
    """Why an item is not running: ``reason`` (e.g. ``SCHEDULED``, ``RETRY_BACKOFF``,
    ``NO_EXECUTOR``), ``until`` when the wait ends at a known time, and a sentence."""

    API: ClassVar[dict[str, str]] = {"reason": "reason", "until": "until", "detail": "detail"}
    TIMES: ClassVar[frozenset[str]] = frozenset({"until"})

    reason: str
    until: dt.datetime | None
    detail: str


@dataclass(frozen=True)
class Item(_Record):
    """One item of a job: its state, attempts, the handler's result or last error,
    and while it waits, why (``waiting_for``; None while running and once finished)."""

    API: ClassVar[dict[str, str]] = {
        "index": "index",
        "status": "status",
        "attempts": "attempts",
        "maxAttempts": "max_attempts",
        "result": "result",
        "errorType": "error_type",
        "lastError": "last_error",
        "startedAt": "started_at",
        "finishedAt": "finished_at",
        "waitingFor": "waiting_for",
    }
    TIMES: ClassVar[frozenset[str]] = frozenset({"started_at", "finished_at"})
    NESTED: ClassVar[dict[str, type[_Record]]] = {"waiting_for": WaitingFor}

    index: int
    status: str
    attempts: int
    max_attempts: int
    result: Any
    error_type: str | None
    last_error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    waiting_for: WaitingFor | None


@dataclass(frozen=True)
class ItemProgress:
    """What an item's handler last reported: ``done`` of ``total`` (None: unknown)."""

    done: int
    total: int | None
    message: str | None
    updated_at: dt.datetime

    @classmethod
    def from_dict(cls, record: Mapping[str, Any] | None) -> ItemProgress | None:
        if record is None:
            return None
        at = _parse_time(record["updatedAt"])
        assert at is not None
        return cls(record["done"], record["total"], record["message"], at)


@dataclass(frozen=True)
class ItemEvent:
    """Something that happened to one item, with its place in the job's event stream.

    ``kind`` is ``started``, ``progress``, ``succeeded``, ``failed`` (will be
    retried), ``dead``, ``cancelled`` or ``rerun``. Pass ``cursor`` as
    ``after`` to ``events`` to resume right after this event.
    """

    SELECTION: ClassVar[str] = (
        "cursor kind itemIndex attempt at detail progress { done total message updatedAt }"
    )

    cursor: str
    kind: str
    item_index: int
    attempt: int
    at: dt.datetime
    detail: str | None
    progress: ItemProgress | None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> ItemEvent:
        at = _parse_time(record["at"])
        assert at is not None
        return cls(
            cursor=record["cursor"],
            kind=str(record["kind"]).lower(),
            item_index=record["itemIndex"],
            attempt=record["attempt"],
            at=at,
            detail=record["detail"],
            progress=ItemProgress.from_dict(record["progress"]),
        )


@dataclass(frozen=True)
class User(_Record):
    """A user of the auth service."""

    API: ClassVar[dict[str, str]] = {"id": "id", "email": "email"}

    id: str
    email: str


@dataclass(frozen=True)
class Limit(_Record):
    """A concurrency and/or rate limit of a job type, counted per ``key`` (docs/limits.md).

    ``key``: None (the whole job type), ``"user"`` or a JSON pointer into the
    item's data such as ``"/customer_id"``; ``rate`` starts per ``per_s`` seconds.
    """

    API: ClassVar[dict[str, str]] = {
        "key": "key",
        "concurrency": "concurrency",
        "rate": "rate",
        "perS": "per_s",
    }

    key: str | None = None
    concurrency: int | None = None
    rate: int | None = None
    per_s: float = 1.0


@dataclass(frozen=True)
class JobTypeLimits:
    """A job type's limits in force, and whether they are ``declared`` or an ``override``."""

    job_type: str
    limits: tuple[Limit, ...]
    source: str
    updated_at: dt.datetime | None

    @classmethod
    def selection(cls) -> str:
        return f"name source updatedAt limits {{ {Limit.selection()} }}"

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Self:
        limits = tuple(Limit.from_dict(limit) for limit in record["limits"])
        return cls(record["name"], limits, record["source"], _parse_time(record["updatedAt"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.job_type,
            "source": self.source,
            "updatedAt": _format_time(self.updated_at),
            "limits": [limit.to_dict() for limit in self.limits],
        }


@dataclass(frozen=True)
class Quota(_Record):
    """A user's submission quotas in force and what they use now (docs/quotas.md).

    ``0`` is unlimited. A source is ``CONFIGURED`` (the service's setting) or
    ``USER`` (an admin gave this user their own).
    """

    API: ClassVar[dict[str, str]] = {
        "userId": "user_id",
        "itemsPerMinute": "items_per_minute",
        "itemsPerMinuteSource": "items_per_minute_source",
        "itemsWaiting": "items_waiting",
        "itemsWaitingSource": "items_waiting_source",
        "usedThisMinute": "used_this_minute",
        "waiting": "waiting",
    }

    user_id: str
    items_per_minute: int
    items_per_minute_source: str
    items_waiting: int
    items_waiting_source: str
    used_this_minute: int
    waiting: int

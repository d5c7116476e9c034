"""What the API answers, as frozen dataclasses: jobs, their items, users."""

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
class User(_Record):
    """A user of the auth service."""

    API: ClassVar[dict[str, str]] = {"id": "id", "email": "email"}

    id: str
    email: str

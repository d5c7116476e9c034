"""How jobs and items look to clients: ISO times, camelCase fields, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from workq_core.db import database_errors
from workq_core.errors import InvalidPayload
from workq_core.jobs import progress, queries
from workq_core.jobs.ids import is_job_id
from workq_core.jobs.queries import ItemRecord, JobRecord
from workq_core.jobs.states import CANCELLED, COMPLETED, DEAD, FINAL, QUEUED, RETRYING, RUNNING
from workq_core.types import JobType

_MAX_BIGINT = 2**63 - 1


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO-8601 UTC, e.g. ``2026-01-02T03:04:05.678Z``."""
    if ms is None:
        return None
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_cursor(job: JobRecord) -> str:
    raw = f"{job.created_at}:{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The ``(created_at, id)`` a cursor points after; a bad cursor is the client's error.

    Both parts are checked, since a client can forge a cursor: the time must fit
    a BIGINT column and the id must look like a job id.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, job_id = raw.partition(":")
        if not (created.isascii() and created.isdigit()) or not is_job_id(job_id):
            raise ValueError(cursor)
        if int(created) > _MAX_BIGINT:
            raise ValueError(cursor)
        return int(created), job_id
    except (ValueError, binascii.Error):
        raise InvalidPayload("after is not a cursor this API returned.", field="after") from None


@dataclass
class JobBatch:
    """Jobs answered together, so their item timestamps and progress load in one query each,
    if asked for."""

    db: peewee.Database
    records: Sequence[JobRecord]
    _times: dict[str, tuple[int, int | None]] | None = field(default=None, repr=False)
    _fractions: dict[str, float] | None = field(default=None, repr=False)

    def times(self, job_id: str) -> tuple[int, int | None]:
        if self._times is None:
            with database_errors():
                self._times = queries.job_times(self.db, [r.id for r in self.records])
        return self._times.get(job_id, (0, None))

    def fraction(self, job_id: str) -> float:
        if self._fractions is None:
            counts = {r.id: r.counts for r in self.records}
            sizes = {r.id: r.size for r in self.records}
            with database_errors():
                self._fractions = progress.job_fractions(self.db, list(sizes), counts, sizes)
        return self._fractions[job_id]


@dataclass
class JobView:
    """A job record with its type and batch; the ``Job`` resolvers read it."""

    record: JobRecord
    job_type: JobType | None
    batch: JobBatch

    def count(self, status: str) -> int:
        return self.record.counts.get(status, 0)

    @property
    def updated_ms(self) -> int:
        record = self.record
        return max(record.created_at, record.cancelled_at or 0, self.batch.times(record.id)[0])

    @property
    def finished_ms(self) -> int | None:
        if not self.record.finished:
            return None
        last_item = self.batch.times(self.record.id)[1]
        return max(last_item or 0, self.record.cancelled_at or 0) or None


def job_views(
    db: peewee.Database, records: Sequence[JobRecord], job_types: dict[str, JobType]
) -> list[JobView]:
    batch = JobBatch(db, records)
    return [JobView(r, job_types.get(r.type), batch) for r in records]


def _counter(status: str) -> Any:
    return lambda job, _info: job.count(status)


JOB_FIELDS: dict[str, Any] = {
    "id": lambda job, _info: job.record.id,
    "name": lambda job, _info: job.record.type,
    "description": lambda job, _info: job.job_type.description if job.job_type else "",
    "status": lambda job, _info: job.record.status,
    "size": lambda job, _info: job.record.size,
    **{s: _counter(s) for s in (QUEUED, RUNNING, RETRYING, COMPLETED, DEAD, CANCELLED)},
    "failed": lambda job, _info: job.count(RETRYING) + job.count(DEAD),
    "createdAt": lambda job, _info: iso(job.record.created_at),
    "updatedAt": lambda job, _info: iso(job.updated_ms),
    "finishedAt": lambda job, _info: iso(job.finished_ms),
    "cancelledAt": lambda job, _info: iso(job.record.cancelled_at),
    "progress": lambda job, _info: job_progress(job),
    "runAt": lambda job, _info: iso(job.record.run_at),
    "priority": lambda job, _info: job.record.priority,
}


def job_progress(job: JobView) -> dict[str, Any]:
    """``JobProgress``: final items count whole, unfinished ones their reported fraction."""
    done = sum(job.count(status) for status in FINAL)
    return {"fraction": job.batch.fraction(job.record.id), "done": done, "total": job.record.size}


def item_progress(item: ItemRecord) -> dict[str, Any] | None:
    """``ItemProgress``, or None before the handler's first report in this attempt."""
    if item.progress_at is None:
        return None
    return progress_view(
        item.progress_done, item.progress_total, item.progress_message, item.progress_at
    )


def progress_view(
    done: int | None, total: int | None, message: str | None, at: int
) -> dict[str, Any]:
    """One ``ItemProgress``, from an item or from a PROGRESS event."""
    return {"done": done, "total": total, "message": message, "updatedAt": iso(at)}


ITEM_FIELDS: dict[str, Any] = {
    "maxAttempts": lambda item, _info: item.max_attempts,
    "result": lambda item, _info: _loads(item.result),
    "errorType": lambda item, _info: item.error_type,
    "lastError": lambda item, _info: item.last_error,
    "startedAt": lambda item, _info: iso(item.started_at),
    "finishedAt": lambda item, _info: iso(item.finished_at),
    "progress": lambda item, _info: item_progress(item),
}


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)

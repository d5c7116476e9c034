"""What the jobs service does for a user, independent of GraphQL."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from workq_core.catalog import Catalog
from workq_core.config import Settings
from workq_core.db import database_errors
from workq_core.db.sql import now_ms
from workq_core.errors import InvalidPayload
from workq_core.jobs import commands, event_log, queries
from workq_core.jobs.admission import window_for
from workq_core.jobs.event_log import Cursor, LoggedEvent
from workq_core.jobs.ids import is_job_id
from workq_core.jobs.queries import ItemRecord, JobRecord
from workq_core.jobs.quotas import QuotaGate
from workq_core.jobs.states import ITEM_STATES
from workq_core.jobs.submission import NOW, QueueOrder, submit_job
from workq_core.jobs_service.views import JobView, job_views
from workq_core.jobs_service.waiting import JobFacts, WaitingFor, waiting_for
from workq_core.retry import policy_for
from workq_core.types import JobType
from workq_core.validation import validate_items

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
MAX_PAGE = 100
MAX_ITEMS_PAGE = 1000
# The registry's rule for names; a filter outside it cannot match a job type.
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass
class JobsApi:
    """Job types, submission and the user's view of their jobs.

    ``wake`` is called after every commit that leaves work for the relay
    (the in-process relay's ``wake``, or nothing when another process relays).
    """

    db: peewee.Database
    settings: Settings
    catalog: Catalog
    wake: Callable[[], None] = lambda: None
    quotas: QuotaGate = field(init=False)

    def __post_init__(self) -> None:
        self.quotas = QuotaGate(self.db, self.settings.jobs)

    def job_types(self) -> list[JobType]:
        return [entry.value for entry in self.catalog.job_types.entries()]

    def job_type(self, name: str) -> JobType:
        """The installed job type ``name``; JobTypeNotFound lists the installed names."""
        return self.catalog.job_types.get(name)

    def submit(
        self,
        user_id: int,
        name: str,
        data: Any,
        idempotency_key: str | None = None,
        order: QueueOrder = NOW,
    ) -> JobRecord:
        """Validate every item, then store the job and its items in one transaction.

        ``order`` says when (``run_at``) and how urgently (``priority``) it runs.
        """
        started = time.perf_counter()
        job_type = self.job_type(name)
        items = self.items_of(data)
        validate_items(job_type, items)
        _check_key(idempotency_key)
        with database_errors():
            with self.quotas.charged(user_id, len(items)) as spent:
                submitted = submit_job(
                    self.db,
                    user_id=user_id,
                    job_type=job_type.name,
                    items=items,
                    max_attempts=self.max_attempts(job_type),
                    idempotency_key=idempotency_key,
                    order=order,
                )
                spent.keep = submitted.created
            job: JobRecord | None
            if submitted.created:
                self.wake()
                job = JobRecord.just_submitted(
                    submitted.job_id,
                    user_id,
                    job_type.name,
                    len(items),
                    submitted.created_at,
                    run_at=order.run_at,
                    priority=order.priority,
                )
            else:
                job = queries.find_job(self.db, user_id, submitted.job_id)
        assert job is not None
        logger.info(
            "job submitted"
            if submitted.created
            else "job resubmitted with the same idempotency key",
            extra={
                "job_id": submitted.job_id,
                "job_type": job_type.name,
                "size": len(items),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return job

    def find_job(self, user_id: int, job_id: str) -> JobRecord | None:
        if not is_job_id(job_id):
            return None
        with database_errors():
            return queries.find_job(self.db, user_id, job_id)

    def list_jobs(
        self,
        user_id: int,
        *,
        first: int,
        after: tuple[int, str] | None,
        status: str | None,
        job_type: str | None,
    ) -> tuple[list[JobRecord], bool]:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidPayload(f"first must be between 1 and {MAX_PAGE}.", field="first")
        if job_type is not None and not _TYPE_NAME.match(job_type):
            return [], False  # no job type has such a name
        with database_errors():
            return queries.list_jobs(
                self.db, user_id, first=first, after=after, status=status, job_type=job_type
            )

    def views(self, records: Sequence[JobRecord]) -> list[JobView]:
        """Records with their job types, answered together (one query for item times)."""
        types = {t.name: t for t in self.job_types()}
        return job_views(self.db, records, types)

    def list_items(
        self, job: JobRecord, *, first: int, offset: int, status: str | None
    ) -> list[ItemRecord]:
        """A bounded page of a job's items (the caller already checked it owns ``job``)."""
        if not 0 <= first <= MAX_ITEMS_PAGE:
            raise InvalidPayload(f"first must be between 0 and {MAX_ITEMS_PAGE}.", field="first")
        if offset < 0:
            raise InvalidPayload("offset must not be negative.", field="offset")
        if status is not None and status not in ITEM_STATES:
            raise InvalidPayload(
                f"Unknown item status {status!r}; use one of: {', '.join(ITEM_STATES)}.",
                field="status",
            )
        with database_errors():
            return queries.list_items(self.db, job.id, first=first, offset=offset, status=status)

    def events(self, job_id: str, after: Cursor, limit: int) -> list[LoggedEvent]:
        """A page of the job's item events after ``after`` (the caller checked ownership)."""
        with database_errors():
            return event_log.read(self.db, after, [job_id], limit)

    def waiting_for(
        self, item: ItemRecord, job: JobRecord, facts: dict[str, JobFacts]
    ) -> WaitingFor | None:
        """Why ``item`` of ``job`` is not running; ``facts`` are shared by one request's items."""
        if job.id not in facts:
            facts[job.id] = JobFacts(self.db, job, now_ms(), window_for(self.settings))
        with database_errors():
            return waiting_for(item, facts[job.id])

    def cancel(self, user_id: int, job_id: str) -> JobRecord:
        if not is_job_id(job_id):
            raise commands.JobNotFound()
        with database_errors():
            commands.cancel_job(self.db, user_id, job_id)
            return self._reload(user_id, job_id)

    def retry_dead(self, user_id: int, job_id: str) -> JobRecord:
        if not is_job_id(job_id):
            raise commands.JobNotFound()
        with database_errors():
            if commands.retry_dead_items(self.db, user_id, job_id):
                self.wake()
            return self._reload(user_id, job_id)

    def _reload(self, user_id: int, job_id: str) -> JobRecord:
        job = queries.find_job(self.db, user_id, job_id)
        if job is None:
            raise commands.JobNotFound()
        return job

    def items_of(self, data: Any) -> Sequence[Any]:
        """One object is a job of one item; a list is a job of that many."""
        if isinstance(data, dict):
            return [data]
        if not isinstance(data, list):
            raise InvalidPayload(
                "data must be a JSON object (one item) or a list of objects.", field="data"
            )
        if not data:
            raise InvalidPayload("data must contain at least one item.", field="data")
        limit = self.settings.jobs.max_items
        if len(data) > limit:
            raise InvalidPayload(
                f"data has {len(data)} items; at most {limit} are allowed per job.", field="data"
            )
        return data

    def max_attempts(self, job_type: JobType) -> int:
        return policy_for(job_type, self.settings.executor).max_attempts


def _check_key(key: str | None) -> None:
    if key is None:
        return
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidPayload(
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters.", field="idempotencyKey"
        )
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in key):
        raise InvalidPayload(
            "idempotencyKey must not contain control characters.", field="idempotencyKey"
        )

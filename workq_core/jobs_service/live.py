"""The jobs service's subscriptions: where ``jobUpdated`` and ``jobEvents`` get their payloads.

Both register with the process's EventHub *before* they read anything, so
whatever commits after their first read reaches them through the hub, and
whatever committed before, through that read: nothing falls in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from workq_core.errors import AuthError
from workq_core.jobs import event_log
from workq_core.jobs.commands import JobNotFound
from workq_core.jobs.event_log import Cursor, LoggedEvent
from workq_core.jobs.queries import JobRecord
from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.event_hub import EventHub, Listener
from workq_core.jobs_service.views import JobView, iso, progress_view
from workq_core.web.subscriptions import ConnectionContext, RunBlocking, Source

REPLAY_PAGE = 500


@dataclass(frozen=True)
class LiveJobs:
    """The sources of the ``Subscription`` fields, over the API and the process's hub."""

    api: JobsApi
    hub: EventHub

    def sources(self) -> dict[str, Source]:
        return {"jobUpdated": self.job_updated, "jobEvents": self.job_events}

    async def job_updated(self, context: ConnectionContext, id: str) -> AsyncIterator[JobView]:
        """The job now, then again after each batch of its events that changed it."""
        listener, record = await self._owned(context, id)
        return self._updates(context.run_blocking, listener, _user_id(context), record)

    async def job_events(
        self, context: ConnectionContext, id: str, after: str | None = None
    ) -> AsyncIterator[LoggedEvent]:
        """The job's events after ``after`` from the log, then live from the hub."""
        cursor = Cursor.decode(after) if after else Cursor()
        listener, record = await self._owned(context, id)
        return self._events(context.run_blocking, listener, record.id, cursor)

    async def _owned(self, context: ConnectionContext, job_id: str) -> tuple[Listener, JobRecord]:
        """Listen first, then read the job: JobNotFound unless it is the user's."""
        user_id = _user_id(context)
        listener = Listener(self.hub, job_id)
        await context.run_blocking(self.hub.register, listener)
        try:
            record = await context.run_blocking(self.api.find_job, user_id, job_id)
        except BaseException:
            listener.close()
            raise
        if record is None:
            listener.close()
            raise JobNotFound()
        return listener, record

    async def _updates(
        self, blocking: RunBlocking, listener: Listener, user_id: int, record: JobRecord
    ) -> AsyncIterator[JobView]:
        try:
            yield self.api.views([record])[0]
            while not record.finished:
                batch = await listener.next_batch()
                fresh = await blocking(self.api.find_job, user_id, record.id)
                if fresh is None:
                    return
                if batch is None or _changed(record, fresh, batch):
                    record = fresh
                    yield self.api.views([record])[0]
        finally:
            listener.close()

    async def _events(
        self, blocking: RunBlocking, listener: Listener, job_id: str, after: Cursor
    ) -> AsyncIterator[LoggedEvent]:
        try:
            last = after
            while True:
                while True:  # replay what the log holds past ``last``
                    page = await blocking(self.api.events, job_id, last, REPLAY_PAGE)
                    for event in page:
                        yield event
                        last = event.cursor
                    if len(page) < REPLAY_PAGE:
                        break
                while (batch := await listener.next_batch()) is not None:
                    for event in batch:
                        if event.cursor > last:
                            yield event
                            last = event.cursor
                # None: this subscriber fell behind and the hub dropped some; read the log
        finally:
            listener.close()


def _user_id(context: ConnectionContext) -> int:
    user_id = getattr(context.require_user(), "id", None)
    if user_id is None:
        raise AuthError("Not authenticated.")
    return int(user_id)


def _changed(before: JobRecord, after: JobRecord, batch: list[LoggedEvent]) -> bool:
    """Counts, cancellation or progress (a PROGRESS event) moved."""
    if before.counts != after.counts or before.cancelled_at != after.cancelled_at:
        return True
    return any(event.kind == event_log.PROGRESS for event in batch)


def event_progress(event: LoggedEvent, _info: Any) -> dict[str, Any] | None:
    if event.kind != event_log.PROGRESS or event.progress_done is None:
        return None
    return progress_view(event.progress_done, event.progress_total, event.detail, event.at)


EVENT_FIELDS: dict[str, Any] = {
    "cursor": lambda event, _info: event.cursor.encode(),
    "kind": lambda event, _info: event.kind.upper(),
    "itemIndex": lambda event, _info: event.item_index,
    "at": lambda event, _info: iso(event.at),
    "progress": event_progress,
}

SUBSCRIPTION_FIELDS: dict[str, Any] = {
    # The payload a source yields is the root field's value.
    "jobUpdated": lambda payload, _info, **_args: payload,
    "jobEvents": lambda payload, _info, **_args: payload,
}

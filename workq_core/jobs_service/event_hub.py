"""One poller per jobs-service process that reads new item events and fans them out by job.

Subscriptions never query the event log on their own while they wait:
the hub reads it every ``poll_s`` (only while anyone listens), for the jobs
listened to, from its watermark, and hands each listener its job's events.
A listener gets every event past the hub's watermark at the moment it
registered, so a subscription that replays the log from its own cursor
*after* registering has no gap between what it replayed and what the hub
sends (it drops the overlap by cursor).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict

import peewee

from workq_core.db import database_errors
from workq_core.db.middleware import CloseDatabase
from workq_core.errors import Unavailable
from workq_core.jobs import event_log
from workq_core.jobs.event_log import Cursor, LoggedEvent

logger = logging.getLogger(__name__)

BATCH = 1000  # events per read; a busier log is caught up on over several polls
MAX_QUEUED = 100  # batches a listener may have waiting before it is told it fell behind


class Listener:
    """A subscription's view of the hub: batches of its job's events, on its event loop."""

    def __init__(self, hub: EventHub, job_id: str) -> None:
        self.hub = hub
        self.job_id = job_id
        self._loop = asyncio.get_running_loop()
        self._overflowed = False
        self._queue: asyncio.Queue[list[LoggedEvent]] = asyncio.Queue(MAX_QUEUED)

    async def next_batch(self) -> list[LoggedEvent] | None:
        """All events that arrived since the last call (waiting for some); None if some were lost.

        None means the subscriber fell more than ``MAX_QUEUED`` batches behind
        and batches were dropped: it reads the log again from its last cursor.
        """
        batch = list(await self._queue.get())
        while not self._queue.empty():
            batch += self._queue.get_nowait()
        if self._overflowed:
            self._overflowed = False
            return None
        return batch

    def deliver(self, events: list[LoggedEvent]) -> None:
        """Called on the hub's thread."""
        self._loop.call_soon_threadsafe(self._put, events)

    def _put(self, events: list[LoggedEvent]) -> None:
        try:
            self._queue.put_nowait(events)
        except asyncio.QueueFull:
            self._overflowed = True

    def close(self) -> None:
        self.hub.remove(self)


class EventHub:
    """Reads ``item_events`` past its watermark every ``poll_s`` while it has listeners.

    Cost: one indexed query per ``poll_s`` per process while anyone listens,
    none otherwise; delay: up to ``poll_s`` after the event's commit (on
    PostgreSQL, also until every older transaction has ended).
    """

    def __init__(self, db: peewee.Database, poll_s: float) -> None:
        self.db = db
        self.poll_s = poll_s
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._watermark = Cursor()
        self._lock = threading.Lock()  # held across a read, so registration sees a settled mark
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._release = CloseDatabase(db)

    def register(self, listener: Listener) -> None:
        """Start delivering the listener's job's events (blocking: call it off the event loop).

        A hub with no listeners has not been reading: it starts from the log's
        tail, since a new listener replays anything older itself.
        """
        with self._lock:
            if not self._listeners:
                with database_errors():
                    self._watermark = event_log.tail(self.db)
            self._listeners[listener.job_id].add(listener)
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._loop, name="workq-events", daemon=True)
                self._thread.start()

    def remove(self, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(listener.job_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[listener.job_id]

    def poll(self) -> int:
        """Read once past the watermark and deliver; returns how many events were read."""
        with self._lock:
            if not self._listeners:
                return 0
            with database_errors():
                events = event_log.read(self.db, self._watermark, list(self._listeners), BATCH)
            if not events:
                return 0
            self._watermark = events[-1].cursor
            by_job: dict[str, list[LoggedEvent]] = defaultdict(list)
            for event in events:
                by_job[event.job_id].append(event)
            targets = [
                (listener, by_job[job_id])
                for job_id in by_job
                for listener in self._listeners.get(job_id, ())
            ]
        for listener, batch in targets:
            listener.deliver(batch)
        return len(events)

    def _loop(self) -> None:
        try:
            while not self._stopping.wait(self.poll_s):
                try:
                    while self.poll() == BATCH and not self._stopping.is_set():
                        pass  # a backlog: read on at once
                except Unavailable:
                    logger.warning("database unavailable; item events wait for the next poll")
                    self.db.close()
                finally:
                    self._release()  # back to the pool between polls (PostgreSQL)
        except Exception:
            logger.error("event hub stopped", exc_info=True)
        finally:
            if not self.db.is_closed():
                self.db.close()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

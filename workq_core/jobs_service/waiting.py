"""Why an item is not running: the first thing it waits for, read from the database.

Each check answers for one cause, in the order an item meets them: its
job's ``run_at``, its retry backoff, a concurrency or rate limit that
parked it, an executor for its type, then its place in the queue (items of
higher priority first, then its turn among other owners' items, then a free
executor once published). Another cause is one more check in ``CHECKS``,
placed where the item meets it; its reason joins the ``WaitReason`` enum
in the GraphQL schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import peewee

from workq_core.db.sql import rows
from workq_core.jobs import fleet
from workq_core.jobs.admission import Window, items_in_broker
from workq_core.jobs.queries import ItemRecord, JobRecord
from workq_core.jobs.states import CANCELLED, QUEUED, RETRYING, WAITING
from workq_core.limits.gate import CONCURRENCY
from workq_core.limits.waits import limit_wait

SCHEDULED = "SCHEDULED"
RETRY_BACKOFF = "RETRY_BACKOFF"
NO_EXECUTOR = "NO_EXECUTOR"
BEHIND_HIGHER_PRIORITY = "BEHIND_HIGHER_PRIORITY"
QUEUED_BEHIND_OTHERS = "QUEUED_BEHIND_OTHERS"
WAITING_FOR_EXECUTOR = "WAITING_FOR_EXECUTOR"
REASON_CANCELLED = "CANCELLED"

_HIGHER_SQL = (
    "SELECT COALESCE(SUM(size - published), 0) AS n FROM jobs WHERE type = ?"
    " AND published < size AND cancelled_at IS NULL AND (run_at IS NULL OR run_at <= ?)"
    " AND priority > ?"
)


@dataclass(frozen=True)
class WaitingFor:
    """A reason (``WaitReason``), until when if it ends at a known time, and a sentence."""

    reason: str
    detail: str
    until: int | None = None


@dataclass
class JobFacts:
    """What the checks ask about one job's surroundings, each read at most once."""

    db: peewee.Database
    job: JobRecord
    now: int
    window_policy: Window
    _cache: dict[str, int] = field(default_factory=dict)

    def _once(self, key: str, read: Callable[[], int]) -> int:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    @property
    def live_executors(self) -> int:
        return self._once("live", lambda: fleet.live_processes(self.db, self.now)[self.job.type])

    @property
    def window(self) -> int:
        return self.window_policy.size(self.live_executors)

    @property
    def higher_priority(self) -> int:
        """Due, unpublished items of this type with a higher priority than this job's."""
        params = (self.job.type, self.now, self.job.priority)
        return self._once("higher", lambda: int(rows(self.db, _HIGHER_SQL, params)[0]["n"]))

    @property
    def in_broker(self) -> int:
        """Published items of this type that no executor has started yet."""
        return self._once("broker", lambda: items_in_broker(self.db, self.job.type))


Check = Callable[[ItemRecord, JobFacts], WaitingFor | None]


def _scheduled(_item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    run_at = facts.job.run_at
    if run_at is not None and run_at > facts.now:
        return WaitingFor(SCHEDULED, "The job's runAt has not come yet.", run_at)
    return None


def _backoff(item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    due = item.next_attempt_at
    if item.status == RETRYING and due is not None and due > facts.now:
        detail = f"Attempt {item.attempts} of {item.max_attempts} failed; the next one waits."
        return WaitingFor(RETRY_BACKOFF, detail, due)
    return None


def _limited(item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    wait = limit_wait(item.status, item.limit_scope, item.limit_reason, item.limited_until)
    if wait is None:
        return None
    kind = "concurrency" if wait.reason == CONCURRENCY else "rate"
    detail = f"Parked by the {kind} limit of job type {facts.job.type} on key {wait.key}."
    return WaitingFor(wait.reason, detail, wait.until)


def _no_executor(_item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    if facts.live_executors:
        return None
    detail = (
        f"No live executor serves job type {facts.job.type} (none sent a heartbeat in the"
        f" last {fleet.HEARTBEAT_TTL_MS // 1000} s)."
    )
    return WaitingFor(NO_EXECUTOR, detail)


def _queue_place(item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    if item.status != QUEUED or item.published_at is not None:
        return None
    higher = facts.higher_priority
    if higher:
        detail = (
            f"{higher} items of job type {facts.job.type} with a priority above"
            f" {facts.job.priority} are published first."
        )
        return WaitingFor(BEHIND_HIGHER_PRIORITY, detail)
    detail = (
        f"The broker holds {facts.in_broker} of at most {facts.window} published items of"
        f" job type {facts.job.type}; this item is published when its turn comes (owners"
        " take turns, each job's items in order)."
    )
    return WaitingFor(QUEUED_BEHIND_OTHERS, detail)


def _published(_item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    detail = (
        f"Published; {facts.in_broker} published items of job type {facts.job.type} wait"
        " for a free executor."
    )
    return WaitingFor(WAITING_FOR_EXECUTOR, detail)


CHECKS: tuple[Check, ...] = (
    _scheduled,
    _backoff,
    _limited,
    _no_executor,
    _queue_place,
    _published,
)


def waiting_for(item: ItemRecord, facts: JobFacts) -> WaitingFor | None:
    """Why ``item`` is not running, or None when it is running or finished."""
    waiting = item.status in WAITING
    if item.status == CANCELLED or (waiting and facts.job.cancelled_at is not None):
        return WaitingFor(REASON_CANCELLED, "The job was cancelled; this item will not run.")
    if not waiting:
        return None
    for check in CHECKS:
        found = check(item, facts)
        if found is not None:
            return found
    return None  # not met: the last check answers for every waiting item

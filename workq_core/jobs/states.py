"""Item and job states, and how a job's state follows from its items'."""

from __future__ import annotations

QUEUED = "queued"
RUNNING = "running"
RETRYING = "retrying"
COMPLETED = "completed"
DEAD = "dead"
CANCELLED = "cancelled"
SCHEDULED = "scheduled"  # a job status: nothing started, and its run_at is still ahead

ITEM_STATES = (QUEUED, RUNNING, RETRYING, COMPLETED, DEAD, CANCELLED)
FINAL = frozenset({COMPLETED, DEAD, CANCELLED})
WAITING = (QUEUED, RETRYING)


def job_status(counts: dict[str, int], size: int, cancelled: bool, scheduled: bool = False) -> str:
    """``scheduled`` while its ``run_at`` is ahead, ``queued`` until an item starts,
    ``running`` until every item is final, then ``completed`` (all done), ``failed``
    (some dead) or ``cancelled``."""
    final = sum(counts.get(s, 0) for s in FINAL)
    if final < size:
        if cancelled:
            return "cancelling"
        started = size - counts.get(QUEUED, 0)
        if started:
            return RUNNING
        return SCHEDULED if scheduled else QUEUED
    if cancelled or counts.get(CANCELLED, 0):
        return CANCELLED
    return "failed" if counts.get(DEAD, 0) else COMPLETED

"""Item and job states, and how a job's state follows from its items'."""

from __future__ import annotations

QUEUED = "queued"
RUNNING = "running"
RETRYING = "retrying"
COMPLETED = "completed"
DEAD = "dead"
CANCELLED = "cancelled"

ITEM_STATES = (QUEUED, RUNNING, RETRYING, COMPLETED, DEAD, CANCELLED)
FINAL = frozenset({COMPLETED, DEAD, CANCELLED})
WAITING = (QUEUED, RETRYING)


def job_status(counts: dict[str, int], size: int, cancelled: bool) -> str:
    """``queued`` until an item starts, ``running`` until every item is final, then
    ``completed`` (all done), ``failed`` (some dead) or ``cancelled``."""
    final = sum(counts.get(s, 0) for s in FINAL)
    if final < size:
        if cancelled:
            return "cancelling"
        started = size - counts.get(QUEUED, 0)
        return RUNNING if started else QUEUED
    if cancelled or counts.get(CANCELLED, 0):
        return CANCELLED
    return "failed" if counts.get(DEAD, 0) else COMPLETED

"""The event that lifecycle hooks receive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemEvent:
    """One item's step through its life, as lifecycle hooks see it."""

    job_id: str
    job_type: str
    item_index: int
    attempt: int
    max_attempts: int
    duration_ms: float | None = None
    error: str | None = None
    retry_in_ms: int | None = None
    # How long the attempt waited from when it was due until it started (started events).
    waited_ms: float | None = None

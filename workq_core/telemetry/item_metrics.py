"""Item metrics from lifecycle events: the core observes items the way plugins do."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from workq_core.events import ItemEvent
from workq_core.telemetry import metrics

_COUNTERS = {
    "workq_item_succeeded": (metrics.ITEM_COMPLETIONS, "completed"),
    "workq_item_failed": (metrics.ITEM_RETRIES, "retrying"),
    "workq_item_dead": (metrics.ITEM_DEAD_LETTERS, "dead"),
}


def record_item_event(hook_name: str, event: ItemEvent) -> None:
    """Count and time one lifecycle event (called by ``lifecycle.emit`` before plugins)."""
    if hook_name == "workq_item_started":
        attempts, wait = _started(event.job_type)
        attempts.inc()
        if event.waited_ms is not None:
            wait.observe(max(0.0, event.waited_ms) / 1000)
        return
    counter, run = _ended(hook_name, event.job_type)
    counter.inc()
    if event.duration_ms is not None:
        run.observe(event.duration_ms / 1000)


# Label lookups cost more than the increments; job types and hooks are few.
@lru_cache(maxsize=1024)
def _started(job_type: str) -> tuple[Any, Any]:
    return metrics.ITEM_ATTEMPTS.labels(job_type), metrics.ITEM_WAIT.labels(job_type)


@lru_cache(maxsize=4096)
def _ended(hook_name: str, job_type: str) -> tuple[Any, Any]:
    counter, outcome = _COUNTERS[hook_name]
    return counter.labels(job_type), metrics.ITEM_RUN.labels(job_type, outcome)

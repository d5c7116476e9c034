"""Item metrics from lifecycle events: the core observes items the way plugins do."""

from __future__ import annotations

from workq_core.events import ItemEvent
from workq_core.telemetry import metrics


def record_item_event(hook_name: str, event: ItemEvent) -> None:
    """Count and time one lifecycle event (called by ``lifecycle.emit`` before plugins)."""
    job_type = event.job_type
    if hook_name == "workq_item_started":
        metrics.ITEM_ATTEMPTS.labels(job_type).inc()
        if event.waited_ms is not None:
            metrics.ITEM_WAIT.labels(job_type).observe(max(0.0, event.waited_ms) / 1000)
        return
    counter, outcome = {
        "workq_item_succeeded": (metrics.ITEM_COMPLETIONS, "completed"),
        "workq_item_failed": (metrics.ITEM_RETRIES, "retrying"),
        "workq_item_dead": (metrics.ITEM_DEAD_LETTERS, "dead"),
    }[hook_name]
    counter.labels(job_type).inc()
    if event.duration_ms is not None:
        metrics.ITEM_RUN.labels(job_type, outcome).observe(event.duration_ms / 1000)

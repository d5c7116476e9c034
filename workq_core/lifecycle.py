"""Telling lifecycle plugins about items, without letting them disturb the item."""

from __future__ import annotations

import logging

from workq_core.events import ItemEvent
from workq_core.pluginmanager import WorkqPluginManager, call_each
from workq_core.telemetry.item_metrics import record_item_event

logger = logging.getLogger(__name__)

LIFECYCLE_HOOKS = (
    "workq_item_started",
    "workq_item_succeeded",
    "workq_item_failed",
    "workq_item_dead",
)


def emit(pm: WorkqPluginManager, hook_name: str, event: ItemEvent) -> None:
    """Call every implementation of one lifecycle hook; log and swallow their errors.

    Observers must never change an item's fate, so each implementation runs on
    its own and an exception is logged with the plugin's name.
    """
    if hook_name not in LIFECYCLE_HOOKS:
        raise ValueError(f"{hook_name} is not a lifecycle hook")
    record_item_event(hook_name, event)  # the core's own observer: Prometheus metrics
    for call in call_each(pm, hook_name, event=event):
        try:
            call.run()
        except Exception:
            logger.error(
                "lifecycle plugin failed",
                exc_info=True,
                extra={"plugin": call.plugin, "hook": hook_name, "job_id": event.job_id},
            )

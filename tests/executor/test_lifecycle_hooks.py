"""Lifecycle hooks, called by the real executor for real items: with or without arguments."""

from __future__ import annotations

from typing import Any

from tests.core.test_hook_contract import EveryHookWithoutArguments
from tests.executor.conftest import wait_for
from workq_core import JobContext, PermanentFailure, RetryPolicy, hookimpl


class Lifecycle:
    """A job that fails once then succeeds (or fails for good), and records every event."""

    name = "Lifecycle"
    description = "fails as told, records events"
    input_schema = {"type": "object", "properties": {"mode": {"enum": ["flaky", "permanent"]}}}
    retry = RetryPolicy(max_attempts=3, base_delay_ms=10, max_delay_ms=10)

    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        if data["mode"] == "permanent":
            raise PermanentFailure("cannot ever work")
        if ctx.attempt == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    def _record(self, kind: str, event: Any) -> None:
        self.events.append((kind, event.item_index, event.attempt))

    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(self)

    @hookimpl
    def workq_item_started(self, event):
        self._record("started", event)

    @hookimpl
    def workq_item_succeeded(self, event):
        self._record("succeeded", event)

    @hookimpl
    def workq_item_failed(self, event):
        self._record("failed", event)

    @hookimpl
    def workq_item_dead(self, event):
        self._record("dead", event)


def test_every_lifecycle_hook_is_called_by_the_executor_with_or_without_arguments(
    make_pipeline, caplog
):
    # Given a plugin taking the event and one taking no arguments at all
    job, bare = Lifecycle(), EveryHookWithoutArguments()
    pipeline = make_pipeline(extra_plugins=[("lifecycle", job), ("no-args", bare)])
    pipeline.start_relay()
    pipeline.start_executor()
    # When one item succeeds after a failure and another fails for good
    job_id = pipeline.submit("Lifecycle", [{"mode": "flaky"}, {"mode": "permanent"}])
    items = pipeline.wait_final(job_id)
    # Then the executor called each hook, in order, for each item ...
    assert [i["status"] for i in items] == ["completed", "dead"]
    wait_for(lambda: len(job.events) == 6)
    assert [e for e in job.events if e[1] == 0] == [
        ("started", 0, 1),
        ("failed", 0, 1),
        ("started", 0, 2),
        ("succeeded", 0, 2),
    ]
    assert [e for e in job.events if e[1] == 1] == [("started", 1, 1), ("dead", 1, 1)]
    # ... and the argument-less implementations too, with nothing logged as failed
    lifecycle = [n for n in bare.called if not n.startswith("workq_register_")]
    assert sorted(set(lifecycle)) == [
        "workq_item_dead",
        "workq_item_failed",
        "workq_item_started",
        "workq_item_succeeded",
    ]
    assert "lifecycle plugin failed" not in caplog.text

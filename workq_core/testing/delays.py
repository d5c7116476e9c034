"""Job types as their plugins registered them, with retry delays scaled so tests need not wait."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from workq_core.catalog import Catalog, collect
from workq_core.config import ExecutorSettings
from workq_core.errors import RetryLater
from workq_core.pluginmanager import WorkqPluginManager
from workq_core.registry import JobTypeRegistry
from workq_core.retry import policy_for
from workq_core.types import JobContext, JobType, RetryPolicy


class ScaledDelays:
    """A job type's name, schema and handler, with every retry delay times ``scale``.

    Scales the backoff of its retry policy (or of the executor's, for
    ``retry = None``) and the delay of each ``RetryLater`` it raises; the
    number of attempts, and so when an item is dead, stays as declared.
    """

    def __init__(self, job: JobType, policy: RetryPolicy, scale: float) -> None:
        self.job = job
        self.scale = scale
        self.name = job.name
        self.description = job.description
        self.input_schema = job.input_schema
        self.timeout_s = getattr(job, "timeout_s", None)
        self.retry: RetryPolicy | None = RetryPolicy(
            max_attempts=policy.max_attempts,
            base_delay_ms=self._scaled(policy.base_delay_ms),
            max_delay_ms=self._scaled(policy.max_delay_ms),
        )

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        try:
            return self.job.run(data, ctx)
        except RetryLater as exc:
            raise RetryLater(self._scaled(exc.delay_ms), exc.message) from exc

    def _scaled(self, delay_ms: int) -> int:
        return round(delay_ms * self.scale)


class ScaledCatalog(Catalog):
    """The plugins' registries, except that every job type is wrapped in :class:`ScaledDelays`.

    The executor and the harness both read job types from here, so the
    attempts an item is submitted with and the delays it is retried after
    come from the same (scaled) policy.
    """

    def __init__(self, pm: WorkqPluginManager, defaults: ExecutorSettings, scale: float) -> None:
        super().__init__(pm)
        self.defaults = defaults
        self.scale = scale

    @cached_property
    def job_types(self) -> JobTypeRegistry:
        registered = collect(self.pm, "workq_register_job_types", JobTypeRegistry())
        scaled = JobTypeRegistry()
        for entry in registered.entries():
            policy = policy_for(entry.value, self.defaults)
            scaled.providing(entry.plugin).add(ScaledDelays(entry.value, policy, self.scale))
        return scaled

"""The benchmark's job type for Workq, registered in code by the bench server and workers."""

from __future__ import annotations

import os
from typing import Any

from bench.workload import KINDS, run_job
from workq_core import JobContext, Registry, hookimpl

NAME = "Bench"
# Set to a number of seconds to measure a job type that declares timeout_s
# (its attempts then run in the executor's worker processes).
TIMEOUT_ENV = "BENCH_TIMEOUT_S"


class BenchJob:
    """Runs ``bench.workload.run_job`` (no-op or Fibonacci(1000)), which records to the sink."""

    name = NAME
    description = "A benchmark job: no-op or Fibonacci(1000), recorded in the bench sink."
    input_schema = {
        "type": "object",
        # ``key``: which customer an item is for, for bench.limits' per-key limit.
        "properties": {
            "kind": {"enum": list(KINDS)},
            "id": {"type": "string"},
            "key": {"type": "string"},
        },
        "required": ["kind", "id"],
        "additionalProperties": False,
    }
    retry = None
    timeout_s = float(os.environ[TIMEOUT_ENV]) if os.environ.get(TIMEOUT_ENV) else None

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, str]:
        return {"value": run_job(data["kind"], data["id"])}


class BenchPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Registry[Any]) -> None:
        registry.add(BenchJob())


PLUGINS = [("bench", BenchPlugin())]

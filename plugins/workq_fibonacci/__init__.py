"""Fibonacci job type for Workq."""

from __future__ import annotations

from typing import Any

from workq_core import JobContext, Registry, hookimpl


class FibonacciJob:
    """Compute Fibonacci numbers; results are strings because they outgrow 64 bits."""

    name = "Fibonacci"
    description = "Compute the Fibonacci number for the given iterations."
    input_schema = {
        "type": "object",
        "properties": {"iterations": {"type": "integer", "minimum": 0, "maximum": 100_000}},
        "required": ["iterations"],
        "additionalProperties": False,
    }

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, str]:
        a, b = 0, 1
        for _ in range(data["iterations"]):
            a, b = b, a + b
        return {"value": str(a)}


@hookimpl
def workq_register_job_types(registry: Registry[Any]) -> None:
    registry.add(FibonacciJob.name, FibonacciJob())

"""Fibonacci job type for Workq."""

from __future__ import annotations

import decimal
from typing import Any

from workq_core import JobContext, Registry, hookimpl

# str(int) refuses more than 4,300 digits (sys.get_int_max_str_digits, Python's
# guard against quadratic conversions) and F(100,000) has 20,899. decimal has
# no such limit and converts fast; raising the limit would change it for the
# whole process, which is not a job type's to decide.
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX)


def decimal_digits(value: int) -> str:
    """``value`` in decimal, however many digits it has."""
    return str(_EXACT.create_decimal(value))


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
    retry = None  # the executor's configured policy

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, str]:
        a, b = 0, 1
        for _ in range(data["iterations"]):
            a, b = b, a + b
        return {"value": decimal_digits(a)}


@hookimpl
def workq_register_job_types(registry: Registry[Any]) -> None:
    registry.add(FibonacciJob())

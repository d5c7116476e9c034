"""An example third-party Workq plugin, written only against the public core API."""

from __future__ import annotations

from typing import Any

from workq_core import JobContext, Registry, RetryPolicy, hookimpl


class EchoJob:
    """Returns its input text: the smallest useful job type."""

    name = "Echo"
    description = "Return the given text."
    input_schema = {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 1000}},
        "required": ["text"],
        "additionalProperties": False,
    }
    retry = RetryPolicy(max_attempts=2, base_delay_ms=10, max_delay_ms=100)

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, str]:
        return {"echo": data["text"]}


class DictDedupStore:
    """A dedup store that never forgets (for demonstrating the swap only)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def seen(self, key: str) -> bool:
        return key in self.keys

    def mark(self, key: str, ttl_s: float) -> None:
        self.keys.add(key)

    def close(self) -> None:
        self.keys.clear()


@hookimpl
def workq_register_job_types(registry: Registry[Any]) -> None:
    registry.add(EchoJob())


@hookimpl
def workq_register_dedup_stores(registry: Registry[Any]) -> None:
    registry.add("example-dict", lambda ctx: DictDedupStore())

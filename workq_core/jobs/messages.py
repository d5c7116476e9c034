"""The item message: what the relay publishes and the executor reads back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workq_core.errors import WorkqError
from workq_core.types import OutgoingMessage

MAX_ERROR_PROPERTY = 1000


class BadMessage(WorkqError):
    """A message that is not a Workq item message."""


def idempotency_key(job_id: str, index: int) -> str:
    """An item's key in the dedup store: its job and its position, the same on every attempt."""
    return f"{job_id}:{index}"


@dataclass(frozen=True)
class ItemRef:
    """Which item a message is about, and how many attempts it had when published."""

    job_id: str
    item_id: int
    index: int
    attempt: int

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.job_id, self.index)


def encode(row: Mapping[str, Any], trace: Mapping[str, str] | None = None) -> OutgoingMessage:
    """A message for an items row (``id``, ``job_id``, ``idx``, ``attempts``, ``last_error``).

    The payload only points at the item: its data stays in the database, the
    source of truth, so nothing runs that was not committed there. Attempt
    count and last error travel in properties for operators and DLQ readers,
    and ``trace`` (W3C trace context, see ``telemetry.tracing``) for tracing.
    """
    ref = {"job_id": row["job_id"], "item_id": int(row["id"]), "index": int(row["idx"])}
    properties = {
        **(trace or {}),
        "job_id": str(row["job_id"]),
        "item_index": str(row["idx"]),
        "attempt": str(row["attempts"]),
    }
    if row.get("last_error"):
        properties["last_error"] = str(row["last_error"])[:MAX_ERROR_PROPERTY]
    return OutgoingMessage(
        key=idempotency_key(row["job_id"], row["idx"]),
        payload=json.dumps(ref, separators=(",", ":")).encode(),
        properties=properties,
    )


def decode(payload: bytes, properties: Mapping[str, str]) -> ItemRef:
    try:
        ref = json.loads(payload)
        return ItemRef(
            job_id=str(ref["job_id"]),
            item_id=int(ref["item_id"]),
            index=int(ref["index"]),
            attempt=int(properties.get("attempt", "0")),
        )
    except (ValueError, KeyError, TypeError):
        raise BadMessage(f"not a Workq item message: {payload[:80]!r}") from None

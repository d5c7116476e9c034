"""FaultProbe: a test-only job type whose every run is a row in ``fault_effects``.

The fault harness reads that table, outside the executor's own bookkeeping,
to tell lost, duplicated and unexpected work apart. Each run commits its row
in its own transaction on its own connection (``FAULT_EFFECTS_DSN``) before
returning, like a handler with an external side effect. Items with
``poison: true`` record a ``fail`` row and always raise. Items with ``beat:
true`` record a ``start`` row first (which process holds the item) and call
``ctx.heartbeat()`` while they sleep. ``FaultProbeTimed`` declares a
``timeout_s`` (so it runs in the executor's worker processes); its items
with ``hang_on_attempt: n`` record ``start`` and hang on attempt ``n``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psycopg2

from workq_core import RetryPolicy, hookimpl

MAX_ATTEMPTS = 3
TIMEOUT_S = 1
BEAT_EVERY_S = 0.1
_INSERT = (
    "INSERT INTO fault_effects (job_id, idx, attempt, pid, kind, at_ms)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_local = threading.local()


class PoisonItem(Exception):
    """The item was submitted to fail on every attempt."""


class FaultProbeJob:
    """Record the run, optionally sleep, then succeed (or fail, for poison items)."""

    name = "FaultProbe"
    description = "Test-only: record a side effect per run in fault_effects."
    input_schema = {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "poison": {"type": "boolean"},
            "sleep_ms": {"type": "integer", "minimum": 0, "maximum": 10_000},
            "beat": {"type": "boolean"},
            "hang_on_attempt": {"type": "integer", "minimum": 1},
        },
        "required": ["key"],
        "additionalProperties": False,
    }
    retry = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay_ms=50, max_delay_ms=200)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if data.get("beat") or data.get("hang_on_attempt"):
            _record(ctx.job_id, ctx.item_index, ctx.attempt, "start")
        if data.get("hang_on_attempt") == ctx.attempt:
            time.sleep(60)
        if data.get("sleep_ms"):
            _sleep(data["sleep_ms"] / 1000, ctx if data.get("beat") else None)
        kind = "fail" if data.get("poison") else "ok"
        _record(ctx.job_id, ctx.item_index, ctx.attempt, kind)
        if data.get("poison"):
            raise PoisonItem(f"poison item {data['key']}")
        return {"key": data["key"], "pid": os.getpid()}


class FaultProbeTimedJob(FaultProbeJob):
    """FaultProbe with a timeout: its attempts run in worker processes the executor can kill."""

    name = "FaultProbeTimed"
    description = "Test-only: FaultProbe whose attempts time out after TIMEOUT_S."
    timeout_s = TIMEOUT_S


def _sleep(seconds: float, beating: Any) -> None:
    """Sleep, heartbeating through ``beating`` (a JobContext) if given."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if beating is not None:
            beating.heartbeat()
        time.sleep(min(left, BEAT_EVERY_S))


def _record(job_id: str, index: int, attempt: int, kind: str) -> None:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg2.connect(os.environ["FAULT_EFFECTS_DSN"])
        conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                _INSERT, (job_id, index, attempt, os.getpid(), kind, int(time.time() * 1000))
            )
    except psycopg2.Error:
        conn.close()  # reconnect next time; this attempt fails and is retried
        raise


@hookimpl
def workq_register_job_types(registry: Any) -> None:
    registry.add(FaultProbeJob())
    registry.add(FaultProbeTimedJob())

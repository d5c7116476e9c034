"""``runAt``, ``delayMs`` and ``priority`` of a submission, checked and turned into a QueueOrder."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from workq_core.errors import InvalidPayload
from workq_core.jobs.submission import QueueOrder

MIN_PRIORITY = -10
MAX_PRIORITY = 10
MAX_DELAY_MS = 366 * 86_400_000  # a year, and a leap day
# A runAt this far in the past is the client's clock or a mistake, not "now".
PAST_TOLERANCE_MS = 60_000


def queue_order(job_input: dict[str, Any], now: int) -> QueueOrder:
    """The order fields of ``ExecuteJobInput``; a bad one is BAD_USER_INPUT naming it."""
    run_at = job_input.get("runAt")
    delay_ms = job_input.get("delayMs")
    if run_at is not None and delay_ms is not None:
        raise InvalidPayload("Give runAt or delayMs, not both.", field="delayMs")
    due = None
    if run_at is not None:
        due = _run_at(run_at, now)
    elif delay_ms is not None:
        due = now + _delay_ms(delay_ms)
    return QueueOrder(run_at=due, priority=_priority(job_input.get("priority")))


def _run_at(value: Any, now: int) -> int:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidPayload(
            f"runAt {value!r} is not an ISO-8601 date and time, e.g. 2026-01-02T03:04:05Z.",
            field="runAt",
        ) from None
    if moment.tzinfo is None:
        raise InvalidPayload(
            f"runAt {value!r} has no UTC offset; add one, e.g. Z or +02:00.", field="runAt"
        )
    due = int(moment.timestamp() * 1000)
    if due < now - PAST_TOLERANCE_MS:
        raise InvalidPayload(
            f"runAt {value!r} is more than {PAST_TOLERANCE_MS // 1000} s in the past.",
            field="runAt",
        )
    if due > now + MAX_DELAY_MS:
        raise InvalidPayload(f"runAt {value!r} is more than 366 days ahead.", field="runAt")
    return max(due, now)


def _delay_ms(value: Any) -> int:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value != int(value) or not 0 <= value <= MAX_DELAY_MS:
        raise InvalidPayload(
            f"delayMs must be a whole number of milliseconds from 0 to {MAX_DELAY_MS} (366 days).",
            field="delayMs",
        )
    return int(value)


def _priority(value: Any) -> int:
    if value is None:
        return 0
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise InvalidPayload(
            f"priority must be from {MIN_PRIORITY} to {MAX_PRIORITY} (higher runs first).",
            field="priority",
        )
    return int(value)

"""Why a parked item waits, in the words of the API: which limit, which key, until when."""

from __future__ import annotations

from dataclasses import dataclass

from workq_core.jobs.states import WAITING
from workq_core.limits.gate import RATE


@dataclass(frozen=True)
class LimitWait:
    """``reason`` CONCURRENCY_LIMIT or RATE_LIMIT of ``key``; a rate's ``until`` (ms) is exact.

    ``key`` is how the limit names the item's key: ``*`` for the whole job
    type, else ``<limit key>=<value>`` (``/customer_id=acme``, ``user=7``).
    """

    reason: str
    key: str
    until: int | None


def limit_wait(
    status: str, scope: str | None, reason: str | None, until: int | None
) -> LimitWait | None:
    """The limit an item waits for, from its row's columns; None when it is not parked."""
    if scope is None or reason is None or status not in WAITING:
        return None
    return LimitWait(reason, key_of(scope), until if reason == RATE else None)


def key_of(scope: str) -> str:
    _job_type, key, value = scope.split("|", 2)
    return "*" if key == "*" else f"{key}={value}"

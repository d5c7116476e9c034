"""The claim's question to the limits: which of these items may start now?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.limits import gate, store
from workq_core.limits.gate import Candidate, Park
from workq_core.limits.store import Declared


@dataclass(frozen=True)
class Starting:
    """An item the claim would start: its next attempt and what its keys come from."""

    item_id: int
    attempt: int
    job_type: str
    data: Any
    user_id: int
    parked_scope: str | None
    parked_since: int | None


def no_limits(_job_type: str) -> tuple[()]:
    return ()


def admit(
    db: peewee.Database,
    starting: Sequence[Starting],
    declared: Declared,
    lease_end: int,
) -> dict[int, tuple[str, ...] | Park]:
    """In the claim's transaction: limited items' held scopes, or where they are parked.

    Items of job types without limits in force are not in the answer: they start freely.
    """
    if not starting:
        return {}
    force = store.in_force(db, sorted({s.job_type for s in starting}), declared)
    candidates = [
        Candidate(
            s.item_id,
            s.attempt,
            tuple(
                (limit.scope(s.job_type, s.data, s.user_id), limit)
                for limit in force[s.job_type].limits
            ),
            s.parked_scope,
            s.parked_since,
        )
        for s in starting
    ]
    return gate.admit(db, candidates, lease_end)

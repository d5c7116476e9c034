"""Which limits are in force for a job type: an operator's override, else what it declares."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import peewee

from workq_core.db.sql import now_ms, placeholders, rows, run, write_transaction
from workq_core.limits import gate
from workq_core.limits.spec import Limit, dump_limits, parse_limits

Declared = Callable[[str], Sequence[Limit]]
"""``declared(job_type) -> limits``: what an installed job type declares (its ``limits``)."""

_OVERRIDES_SQL = "SELECT job_type, limits, updated_at FROM job_type_limits WHERE job_type IN ({m})"
_UPSERT_SQL = (
    "INSERT INTO job_type_limits (job_type, limits, updated_by, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (job_type) DO UPDATE SET limits = excluded.limits,"
    " updated_by = excluded.updated_by, updated_at = excluded.updated_at"
)


def declared_by(job_type: object) -> tuple[Limit, ...]:
    """A job type's own ``limits`` attribute (optional in the JobType contract)."""
    return tuple(getattr(job_type, "limits", None) or ())


@dataclass(frozen=True)
class LimitsInForce:
    """A job type's limits and where they come from: ``declared`` or ``override``."""

    job_type: str
    limits: tuple[Limit, ...]
    source: str
    updated_at: int | None = None


def in_force(
    db: peewee.Database, job_types: Sequence[str], declared: Declared
) -> dict[str, LimitsInForce]:
    """Read in the caller's transaction, so a claim sees an operator's change at once."""
    found = {}
    if job_types:
        marks = placeholders(len(job_types))
        for row in rows(db, _OVERRIDES_SQL.format(m=marks), list(job_types)):
            limits = parse_limits(json.loads(row["limits"]))
            found[row["job_type"]] = LimitsInForce(
                row["job_type"], limits, "override", int(row["updated_at"])
            )
    return {
        name: found.get(name) or LimitsInForce(name, tuple(declared(name)), "declared")
        for name in job_types
    }


def set_override(
    db: peewee.Database, job_type: str, limits: Sequence[Limit] | None, user_id: int | None
) -> int:
    """Store an operator's limits for ``job_type``; None drops the override (declared again).

    Its parked items are woken in the same transaction, to be judged by the
    new limits; returns how many.
    """
    now = now_ms()
    with write_transaction(db):
        if limits is None:
            run(db, "DELETE FROM job_type_limits WHERE job_type = ?", [job_type])
        else:
            run(db, _UPSERT_SQL, [job_type, dump_limits(limits), user_id, now])
        return gate.wake_parked(db, job_type, now)

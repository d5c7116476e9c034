"""What a schedule is: its checked definition, its stored record, and its policies."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workq_core.errors import InvalidPayload
from workq_core.schedules.cadence import Cadence, parse_cadence

# Missed runs: what a schedule does about runs that fell due while no
# scheduler ran (downtime) and are older than the grace period.
SKIP = "SKIP"
RUN_ONCE = "RUN_ONCE"
RUN_ALL = "RUN_ALL"
MISSED_POLICIES = (SKIP, RUN_ONCE, RUN_ALL)
# Overlap: whether a run starts while the previous run's job is unfinished.
ALLOW = "ALLOW"
OVERLAP_POLICIES = (SKIP, ALLOW)

MAX_NAME_LENGTH = 100
MAX_CATCH_UP = 100
DEFAULT_CATCH_UP = 10


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule's definition, every field checked (see :func:`schedule_spec`).

    ``items`` are the payloads each run submits as one job; they were
    validated against the job type's input schema by whoever built the spec.
    """

    name: str
    job_type: str
    items: tuple[Mapping[str, Any], ...]
    cadence: Cadence
    missed: str = RUN_ONCE
    max_catch_up: int = DEFAULT_CATCH_UP
    overlap: str = SKIP

    @property
    def data_json(self) -> str:
        return json.dumps(list(self.items), separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class ScheduleRecord:
    """A stored schedule (times in ms since the epoch)."""

    id: str
    user_id: int
    name: str
    job_type: str
    data: list[dict[str, Any]]
    cadence: Cadence
    missed: str
    max_catch_up: int
    overlap: str
    next_run_at: int
    paused_at: int | None
    last_run_at: int | None
    last_job_id: str | None
    runs: int
    skipped_runs: int
    last_skip_reason: str | None
    source: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ScheduleRecord:
        cadence = Cadence(
            cron=row["cron"], timezone=row["timezone"] or "UTC", interval_ms=row["interval_ms"]
        )
        return cls(
            id=row["id"],
            user_id=int(row["user_id"]),
            name=row["name"],
            job_type=row["job_type"],
            data=json.loads(row["data"]),
            cadence=cadence,
            missed=row["missed_policy"],
            max_catch_up=int(row["max_catch_up"]),
            overlap=row["overlap_policy"],
            next_run_at=int(row["next_run_at"]),
            paused_at=row["paused_at"],
            last_run_at=row["last_run_at"],
            last_job_id=row["last_job_id"],
            runs=int(row["runs"]),
            skipped_runs=int(row["skipped_runs"]),
            last_skip_reason=row["last_skip_reason"],
            source=row["source"],
            created_at=int(row["created_at"]),
            updated_at=int(row["updated_at"]),
        )


def schedule_spec(
    *,
    name: str,
    job_type: str,
    items: Sequence[Mapping[str, Any]],
    cron: str | None = None,
    timezone: str | None = None,
    interval_s: int | None = None,
    missed: str = RUN_ONCE,
    max_catch_up: int = DEFAULT_CATCH_UP,
    overlap: str = SKIP,
    prefix: str = "",
) -> ScheduleSpec:
    """Check everything but the items; InvalidPayload names the field (after ``prefix``)."""
    check_name(name, field=prefix + "name")
    cadence = parse_cadence(cron, timezone, interval_s, prefix=prefix)
    _one_of(missed, MISSED_POLICIES, prefix + "missedRuns")
    _one_of(overlap, OVERLAP_POLICIES, prefix + "overlap")
    if not isinstance(max_catch_up, int) or not 1 <= max_catch_up <= MAX_CATCH_UP:
        raise InvalidPayload(
            f"maxCatchUp must be between 1 and {MAX_CATCH_UP}, got {max_catch_up!r}",
            field=prefix + "maxCatchUp",
        )
    return ScheduleSpec(
        name=name,
        job_type=job_type,
        items=tuple(items),
        cadence=cadence,
        missed=missed,
        max_catch_up=max_catch_up,
        overlap=overlap,
    )


def check_name(name: str, *, field: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidPayload(f"name must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise InvalidPayload("name must not contain control characters", field=field)


def _one_of(value: str, allowed: Sequence[str], field: str) -> None:
    if value not in allowed:
        raise InvalidPayload(
            f"{field.rsplit('.', 1)[-1]} must be one of {', '.join(allowed)}, got {value!r}",
            field=field,
        )

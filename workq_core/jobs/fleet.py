"""Which executor processes are alive, per job type, from their heartbeat rows."""

from __future__ import annotations

import json
from collections import Counter

import peewee

from workq_core.db.sql import rows

# An executor beats every 2 s; three missed beats and more mean it is gone.
HEARTBEAT_TTL_MS = 15_000
_LIVE_SQL = "SELECT job_types FROM executors WHERE heartbeat_at > ?"


def live_processes(db: peewee.Database, now: int) -> Counter[str]:
    """Live executor processes serving each job type (a type nobody serves is absent)."""
    counts: Counter[str] = Counter()
    for row in rows(db, _LIVE_SQL, (now - HEARTBEAT_TTL_MS,)):
        counts.update(json.loads(row["job_types"]))
    return counts

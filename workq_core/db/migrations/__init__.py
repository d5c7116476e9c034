"""The ordered list of schema migrations; adding one is one line here plus its module.

Each module has ``VERSION`` (int, increasing), ``NAME`` and ``apply(db)``,
which runs inside the migration transaction and must not commit.
"""

from workq_core.db.migrations import (
    m0001_users,
    m0002_jobs,
    m0003_executors,
    m0004_leases,
    m0005_live_progress,
    m0006_queue_order,
    m0007_schedules,
    m0008_limits,
    m0010_telemetry_retention,
    m0011_executors_ran_dry,
    m0012_login_attempts_quotas,
    m0013_items_claimed_at,
)

MIGRATIONS = [
    m0001_users,
    m0002_jobs,
    m0003_executors,
    m0004_leases,
    m0005_live_progress,
    m0006_queue_order,
    m0007_schedules,
    m0008_limits,
    m0010_telemetry_retention,
    m0011_executors_ran_dry,
    m0012_login_attempts_quotas,
    m0013_items_claimed_at,
]

"""Default schedules that job types declare: checked at registration, installed at start-up.

They belong to the system user ``system``: an email the auth service never
accepts at sign-up and a password hash no password matches, so nobody can
log in as it or register it first. Admins see and manage its schedules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import peewee

from workq_core.db.sql import rows, run, write_transaction
from workq_core.errors import InvalidPayload, PluginError
from workq_core.schedules import store
from workq_core.schedules.spec import ScheduleRecord, ScheduleSpec, schedule_spec
from workq_core.types import DefaultSchedule, JobType
from workq_core.validation import validate_items

logger = logging.getLogger(__name__)

SYSTEM_EMAIL = "system"
_NO_PASSWORD = "!"  # noqa: S105 - not a bcrypt hash: checkpw refuses it, so no password matches


def declared(job: JobType) -> Sequence[DefaultSchedule]:
    """The job type's ``schedules`` (an optional attribute), or none."""
    return tuple(getattr(job, "schedules", None) or ())


def default_spec(job: JobType, default: DefaultSchedule) -> ScheduleSpec:
    """The schedule ``<job type>/<name>``, every field and item checked; InvalidPayload if not."""
    if not isinstance(default, DefaultSchedule):
        raise InvalidPayload(f"schedules must hold DefaultSchedule values, got {default!r}")
    items = [default.data] if isinstance(default.data, Mapping) else list(default.data)
    if not items:
        raise InvalidPayload("data must hold at least one item", field="data")
    validate_items(job, items)
    return schedule_spec(
        name=f"{job.name}/{default.name}",
        job_type=job.name,
        items=items,
        cron=default.cron,
        timezone=default.timezone,
        interval_s=default.interval_s,
        missed=default.missed,
        max_catch_up=default.max_catch_up,
        overlap=default.overlap,
    )


def check_declared(plugin: str, job: JobType) -> None:
    """Each declared default schedule valid, else PluginError naming plugin, schedule and field."""
    for default in declared(job):
        try:
            default_spec(job, default)
        except InvalidPayload as exc:
            name = getattr(default, "name", default)
            where = f" (field {exc.field})" if exc.field else ""
            raise PluginError(
                f"plugin {plugin!r}: job type {job.name!r} default schedule {name!r}{where}:"
                f" {exc.message}"
            ) from None


def install(db: peewee.Database, entries: Sequence[tuple[JobType, str]]) -> int:
    """Create or update every declared default schedule; returns how many changed.

    ``entries`` are ``(job type, plugin)``. Idempotent, and safe when several
    replicas start at once.
    """
    wanted = [(default_spec(job, d), plugin) for job, plugin in entries for d in declared(job)]
    if not wanted:
        return 0
    viewer = store.Viewer(system_user_id(db), admin=True)
    changed = 0
    for spec, plugin in wanted:
        changed += _install_one(db, viewer, spec, plugin)
    logger.info("default schedules installed", extra={"schedules": len(wanted), "changed": changed})
    return changed


def _install_one(db: peewee.Database, viewer: store.Viewer, spec: ScheduleSpec, plugin: str) -> int:
    existing = store.find_named(db, viewer.user_id, spec.name)
    if existing is None:
        try:
            store.insert(db, viewer.user_id, spec, source=plugin)
        except InvalidPayload:  # another replica inserted it first
            return 0
        return 1
    if _same(existing, spec):
        return 0
    store.replace(db, viewer, existing.id, spec)
    return 1


def _same(record: ScheduleRecord, spec: ScheduleSpec) -> bool:
    ours: dict[str, Any] = {
        "data": [dict(item) for item in spec.items],
        "cadence": spec.cadence,
        "missed": spec.missed,
        "max_catch_up": spec.max_catch_up,
        "overlap": spec.overlap,
    }
    theirs = {key: getattr(record, key) for key in ours}
    return ours == theirs


def system_user_id(db: peewee.Database) -> int:
    """The id of the ``system`` user, created on first use."""
    with write_transaction(db):
        run(
            db,
            "INSERT INTO users (email, password_hash, role) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (SYSTEM_EMAIL, _NO_PASSWORD, "user"),
        )
    found = rows(db, "SELECT id FROM users WHERE email = ?", (SYSTEM_EMAIL,))
    return int(found[0]["id"])

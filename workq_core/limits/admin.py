"""What an operator may do with limits at run time: read them, and (admins) change them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee

from workq_core.db import database_errors
from workq_core.db.sql import rows
from workq_core.errors import Forbidden, InvalidPayload
from workq_core.limits import store
from workq_core.limits.spec import parse_limits
from workq_core.limits.store import Declared, LimitsInForce

ADMIN = "admin"


def show(db: peewee.Database, job_types: Sequence[str], declared: Declared) -> list[LimitsInForce]:
    """The limits in force for each of ``job_types``, in that order."""
    with database_errors():
        found = store.in_force(db, list(job_types), declared)
    return [found[name] for name in job_types]


def change(
    db: peewee.Database,
    user_id: int,
    job_type: str,
    raw: list[dict[str, Any]] | None,
    declared: Declared,
) -> LimitsInForce:
    """Replace ``job_type``'s limits (None: back to the declared ones); admins only.

    Takes effect at the next claim of any executor; parked items are woken to
    be judged by the new limits.
    """
    with database_errors():
        require_admin(db, user_id, "change limits")
        limits = None
        if raw is not None:
            try:
                limits = parse_limits(raw)
            except ValueError as exc:
                raise InvalidPayload(f"limits: {exc}", field="limits") from None
        store.set_override(db, job_type, limits, user_id)
        return store.in_force(db, [job_type], declared)[job_type]


def require_admin(db: peewee.Database, user_id: int, action: str) -> None:
    """Forbidden (saying what only an admin may do) unless ``user_id`` is an admin."""
    found = rows(db, "SELECT role FROM users WHERE id = ?", [user_id])
    if not found or found[0]["role"] != ADMIN:
        raise Forbidden(f"Only an admin may {action}.")

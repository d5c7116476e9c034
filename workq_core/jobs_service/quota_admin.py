"""Reading a user's submission quotas, and an admin's per-user overrides of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.config.sections import JobsSettings
from workq_core.db.sql import now_ms, rows, run, write_transaction
from workq_core.errors import InvalidPayload
from workq_core.jobs import quota_usage
from workq_core.jobs.quota_usage import waiting_items
from workq_core.jobs.quotas import MINUTE_MS
from workq_core.limits.admin import require_admin

MAX_LIMIT = 2**31 - 1  # GraphQL Int
FIELDS = ("items_per_minute", "items_waiting")

_ROW_SQL = (
    "SELECT items_per_minute, items_waiting, window_start, window_items"
    " FROM user_quotas WHERE user_id = ?"
)
# Each field: changed (flag 1, to the value, NULL = back to the configured one) or kept.
_SET_SQL = (
    "UPDATE user_quotas SET"
    " items_per_minute = CASE WHEN ? = 1 THEN ? ELSE items_per_minute END,"
    " items_waiting = CASE WHEN ? = 1 THEN ? ELSE items_waiting END,"
    " updated_by = ?, updated_at = ? WHERE user_id = ?"
)


@dataclass(frozen=True)
class UserRef:
    """The user an admin names, by ``userId`` or by ``email`` (exactly one of them).

    Resolved only after the admin check, so that nobody else can probe which
    emails have an account.
    """

    user_id: str | None = None
    email: str | None = None

    def resolve(self, db: peewee.Database) -> int:
        """The user's id; BAD_USER_INPUT naming the argument that names nobody."""
        if (self.user_id is None) == (self.email is None):
            raise InvalidPayload(
                "Name the user by exactly one of userId and email.", field="userId"
            )
        if self.email is not None:
            # case-insensitive, as the auth service finds an email at login
            found = rows(db, "SELECT id FROM users WHERE lower(email) = ?", (self.email.lower(),))
            if not found:
                raise InvalidPayload(f"No user has the email {self.email!r}.", field="email")
            return int(found[0]["id"])
        assert self.user_id is not None
        if not self.user_id.isdigit() or len(self.user_id) > 18:
            raise InvalidPayload("No such user.", field="userId")
        if not rows(db, "SELECT id FROM users WHERE id = ?", (int(self.user_id),)):
            raise InvalidPayload("No such user.", field="userId")
        return int(self.user_id)


@dataclass(frozen=True)
class QuotaView:
    """A user's quotas in force (0: unlimited), where each comes from, and the usage now."""

    user_id: int
    items_per_minute: int
    items_waiting: int
    per_minute_source: str  # "configured" or "user" (an admin's override)
    waiting_source: str
    used_this_minute: int
    waiting: int


def show(db: peewee.Database, settings: JobsSettings, user_id: int) -> QuotaView:
    """The quotas and usage of ``user_id``; the waiting count is exact (it is counted)."""
    found = rows(db, _ROW_SQL, (user_id,))
    row: dict[str, Any] = found[0] if found else {}
    now = now_ms()
    in_window = row.get("window_start") == now - now % MINUTE_MS
    per_minute, waiting = row.get("items_per_minute"), row.get("items_waiting")
    return QuotaView(
        user_id=user_id,
        items_per_minute=settings.quota_items_per_minute if per_minute is None else per_minute,
        items_waiting=settings.quota_items_waiting if waiting is None else waiting,
        per_minute_source="configured" if per_minute is None else "user",
        waiting_source="configured" if waiting is None else "user",
        used_this_minute=int(row["window_items"]) if in_window else 0,
        waiting=waiting_items(db, user_id),
    )


def show_other(
    db: peewee.Database, settings: JobsSettings, admin_id: int, user: UserRef
) -> QuotaView:
    """Admins only: the quotas and usage of the user ``user`` names."""
    require_admin(db, admin_id, "read other users' quotas")
    return show(db, settings, user.resolve(db))


def set_override(
    db: peewee.Database,
    settings: JobsSettings,
    admin_id: int,
    user: UserRef,
    changes: dict[str, int | None],
) -> QuotaView:
    """Admins only: set (a number, 0 = unlimited) or clear (None) a user's own quotas.

    ``changes`` maps ``items_per_minute`` / ``items_waiting`` to the new value;
    a field not in it keeps its value. Takes effect at the user's next submission.
    """
    require_admin(db, admin_id, "change quotas")
    for field, value in changes.items():
        if value is not None and not 0 <= value <= MAX_LIMIT:
            raise InvalidPayload(f"{field} must be 0 (unlimited) or more.", field=field)
    with write_transaction(db):
        user_id = user.resolve(db)
        quota_usage.create(db, user_id)
        params: list[Any] = []
        for field in FIELDS:
            params += [int(field in changes), changes.get(field)]
        run(db, _SET_SQL, (*params, admin_id, now_ms(), user_id))
    return show(db, settings, user_id)

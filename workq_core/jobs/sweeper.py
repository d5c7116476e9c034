"""Re-publish items whose messages the broker holds but no longer delivers.

The database is the source of truth and the broker only the transport: if
a broker loses track of messages (data loss, a consumer that died at the
wrong moment — seen with pulsar-lite), items would wait forever. The sweep
finds items that should have been moving for ``stall_ms`` (published and
still queued, or running with a long-expired lease, or due for a retry)
although a live executor of their job type ran dry since (a free thread of
it found nothing to receive: the broker had nothing it could hand over), and adds an outbox
row for each, so the relay publishes them again. Requiring a live executor
that ran dry keeps it from duplicating a backlog that is merely long (busy
executors never run dry) or one whose executors are down; a trickle of other
work (retries coming due) no longer hides lost messages, as "every executor
idle" did. A queued item admission has not published yet (delayed, or
behind a full window) is the database's to publish, never the sweep's. A
duplicate that does slip through is harmless: the claim decides. Items
parked by a limit are not lost but waiting their turn: only the head of a
key's queue is swept, once its expected wake-up is ``stall_ms`` past.

Separately, :func:`recover_expired_leases` re-publishes running items whose
lease ran out, whatever other executors are doing: leases are renewed while
their executor lives, so an expired one means its executor died, froze, or
its handler stopped heartbeating, and the item should run elsewhere now.

It also re-publishes dead items whose dead letter is not recorded
(``dead_lettered_at IS NULL``) once their lease ran out. Such an item is
committed dead before its dead letter is sent, and stays leased while one
executor sends it (``executor.attempts``), so an expired lease means that
executor stopped in between. Normally the broker redelivers the message and
the next claim sends the dead letter; if the broker lost the message
(pulsar-lite with a SIGKILLed consumer) nothing else ever would. The lease
rule fits, not the "ran dry" one: the dead letter waits for no free
executor, so a busy fleet is no reason to wait, and the lease already says
when the sender is gone. The claim then sends it with ``maybe_sent`` (the
topic is checked for it first), so it reaches the topic once; a copy the
broker still delivers meets the new claim's lease, then the record.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import peewee

from workq_core.config import Settings
from workq_core.db import is_postgres
from workq_core.db.sql import now_ms, placeholders, rows, run_many, write_transaction
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.states import DEAD, QUEUED, RETRYING, RUNNING

logger = logging.getLogger(__name__)


_DRY_SQL = "SELECT job_types FROM executors WHERE heartbeat_at > ? AND ran_dry_at >= ?"
_STUCK_SQL = (
    "SELECT i.id, i.job_id, j.type FROM items i JOIN jobs j ON j.id = i.job_id"
    " WHERE j.type IN ({marks}) AND j.cancelled_at IS NULL AND ("
    " (i.status = ? AND i.published_at < ?)"
    " OR (i.status = ? AND i.lease_expires_at < ?)"
    " OR (i.status = ? AND i.next_attempt_at < ?))"
    " AND (i.limit_scope IS NULL OR (i.limited_until < ? AND NOT EXISTS ("
    "SELECT 1 FROM items h WHERE h.limit_scope = i.limit_scope AND h.status IN (?, ?)"
    " AND (h.limited_since < i.limited_since"
    " OR (h.limited_since = i.limited_since AND h.id < i.id)))))"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.item_id = i.id)"
    " LIMIT 1000"
)
_TOUCH_SQL = "UPDATE items SET updated_at = ?, published_at = ? WHERE id = ?"
# updated_at is the claim's (renewals leave it), the dead outcome's, or the
# last re-publish's, so an item is re-published at most once per lease while
# nobody claims it. A recorded dead letter clears the lease: never swept.
_EXPIRED_SQL = (
    "SELECT i.id, i.job_id, j.type FROM items i JOIN jobs j ON j.id = i.job_id"
    " WHERE i.status IN (?, ?) AND i.dead_lettered_at IS NULL"
    " AND i.lease_expires_at < ? AND i.updated_at < ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.item_id = i.id)"
    " LIMIT 1000"
)


def stall_ms(settings: Settings) -> int:
    """How long idle executors beside waiting items mean lost messages."""
    return int(settings.executor.redeliver_after_s * 1000)


def lease_ms(settings: Settings) -> int:
    """How long a started item's lease lasts without renewal."""
    return int(settings.executor.lease_s * 1000)


def dry_job_types(db: peewee.Database, now: int, stall_ms: int, heartbeat_ttl_ms: int) -> set[str]:
    """Job types with a live executor that ran dry within the last ``stall_ms``."""
    dry: set[str] = set()
    for row in rows(db, _DRY_SQL, (now - heartbeat_ttl_ms, now - stall_ms)):
        dry.update(json.loads(row["job_types"]))
    return dry


def sweep(db: peewee.Database, stall_ms: int, heartbeat_ttl_ms: int) -> int:
    """Queue stuck items for re-publishing; returns how many."""
    now = now_ms()
    with write_transaction(db):
        job_types = sorted(dry_job_types(db, now, stall_ms, heartbeat_ttl_ms))
        if not job_types:
            return 0
        cutoff = now - stall_ms
        params: list[Any] = [*job_types, QUEUED, cutoff, RUNNING, cutoff, RETRYING, cutoff]
        params += [cutoff, QUEUED, RETRYING]  # parked items: only a key's head, once overdue
        sql = _STUCK_SQL.format(marks=placeholders(len(job_types)))
        lock = " FOR UPDATE OF i SKIP LOCKED" if is_postgres(db) else ""
        stuck = rows(db, sql + lock, params)
        enqueue(db, [OutboxEntry(r["job_id"], r["type"], now, r["id"]) for r in stuck], now)
        run_many(db, _TOUCH_SQL, [(now, now, r["id"]) for r in stuck])
    if stuck:
        logger.warning(
            "re-publishing items the broker stopped delivering", extra={"count": len(stuck)}
        )
    return len(stuck)


def recover_expired_leases(db: peewee.Database, lease_ms: int) -> int:
    """Queue leased items whose lease ran out for re-publishing; returns how many.

    Running items, and dead ones whose dead letter is not recorded yet.
    """
    now = now_ms()
    with write_transaction(db):
        lock = " FOR UPDATE OF i SKIP LOCKED" if is_postgres(db) else ""
        expired = rows(db, _EXPIRED_SQL + lock, (RUNNING, DEAD, now, now - lease_ms))
        enqueue(db, [OutboxEntry(r["job_id"], r["type"], now, r["id"]) for r in expired], now)
        run_many(db, _TOUCH_SQL, [(now, now, r["id"]) for r in expired])
    if expired:
        logger.warning(
            "re-publishing items whose executor stopped renewing their lease",
            extra={"count": len(expired)},
        )
    return len(expired)

"""Admit or park items against their keys' limits, inside the claim's transaction.

Every key (a *scope*: job type, limit key, value) has a row in
``limit_scopes`` that each claim and each release of that key locks, so two
executors never both take a key's last slot. A slot is a ``limit_slots`` row
of one attempt; it counts only while that attempt runs under a live lease,
so an executor that dies holding slots gives them back when its leases run
out, and nothing has to clean up after it. Starts are ``limit_starts`` rows,
a sliding window for the rate.

An item over a limit is *parked*: it keeps its status, uses no attempt, and
its message is acknowledged. It records its key and its place in the key's
queue (``limited_since``). Parked items are woken in that order by an
outbox row: at once when a slot frees or a start leaves the window while
someone holds the lock (claim or record), else the queue's head alone at
the time it could next run (a holder's lease end, the window's next gap).
A fresh item never overtakes parked items of its key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import peewee

from workq_core.db.sql import for_update, now_ms, placeholders, rows, run, run_many
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.states import QUEUED, RETRYING, RUNNING
from workq_core.limits.spec import Limit

CONCURRENCY = "CONCURRENCY_LIMIT"
RATE = "RATE_LIMIT"

_LOCK_SQL = (
    "INSERT INTO limit_scopes (scope, job_type, concurrency, rate, per_ms) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (scope) DO UPDATE SET concurrency = excluded.concurrency,"
    " rate = excluded.rate, per_ms = excluded.per_ms"
)
_LOCKED_SQL = "SELECT scope, concurrency, rate, per_ms FROM limit_scopes WHERE scope IN ({m})"
# Each read covers every key of the transaction at once: keys' rows stay locked
# for as few round trips as possible.
_LIVE_SQL = (
    "SELECT s.scope, COUNT(*) AS n, MIN(i.lease_expires_at) AS soonest FROM limit_slots s"
    " JOIN items i ON i.id = s.item_id WHERE s.scope IN ({m}) AND i.status = ?"
    " AND i.attempts = s.attempt AND i.lease_expires_at > ? GROUP BY s.scope"
)
_STARTS_SQL = "SELECT scope, at FROM limit_starts WHERE scope IN ({m}) AND at > ? ORDER BY at"
_PRUNE_SQL = "DELETE FROM limit_starts WHERE scope = ? AND at <= ?"
# One key's queue head; a transaction's keys are read as a UNION ALL of these.
_QUEUE_SQL = (
    "SELECT * FROM (SELECT id, job_id, limit_scope, limited_since FROM items"
    " WHERE limit_scope = ? AND status IN (?, ?) ORDER BY limited_since, id LIMIT ?) q"
)
_STILL_PARKED_SQL = (
    "SELECT id FROM items WHERE id IN ({m}) AND limit_scope IS NOT NULL AND status IN (?, ?)"
    " ORDER BY id"
)
# An item whose executor died mid-attempt (running, lease ended) waits as a retry.
_PARK_SQL = (
    "UPDATE items SET limit_scope = ?, limit_reason = ?, limited_until = ?,"
    " limited_since = COALESCE(limited_since, ?), updated_at = ?,"
    " status = CASE WHEN status = ? THEN ? ELSE status END, lease_expires_at = NULL WHERE id = ?"
)
_UNPARK_SQL = (
    "UPDATE items SET limit_scope = NULL, limit_reason = NULL, limited_since = NULL,"
    " limited_until = NULL WHERE id = ?"
)
_PENDING_SQL = "SELECT item_id FROM outbox WHERE item_id IN ({m})"
_HURRY_SQL = "UPDATE outbox SET due_at = ? WHERE item_id IN ({m}) AND due_at > ?"
_FAR = 2**62
MAX_WAKE = 1000  # most parked items of one key woken by one transaction


@dataclass(frozen=True)
class Candidate:
    """An item about to start ``attempt``, and the keys of its limits."""

    item_id: int
    attempt: int
    scopes: tuple[tuple[str, Limit], ...]
    parked_scope: str | None = None
    parked_since: int | None = None


@dataclass(frozen=True)
class Park:
    """Why an item does not run now: over ``reason`` of ``scope``, until about ``until``."""

    scope: str
    reason: str
    until: int


@dataclass
class _Scope:
    """One key's state under its lock: what runs, what started, who queues first."""

    name: str
    limit: Limit
    live: int = 0
    soonest_lease_end: int | None = None
    starts: list[int] = field(default_factory=list)  # in the window, oldest first
    head: list[int] = field(default_factory=list)
    head_limit: int = 0
    taken: list[int] = field(default_factory=list)

    @property
    def job_type(self) -> str:
        return self.name.split("|", 1)[0]

    def running_room(self) -> int:
        c = self.limit.concurrency
        return _FAR if c is None else c - self.live - len(self.taken)

    def start_room(self) -> int:
        r = self.limit.rate
        return _FAR if r is None else r - len(self.starts) - len(self.taken)

    def room(self) -> int:
        return min(self.running_room(), self.start_room())

    def position(self, c: Candidate) -> int:
        """How many parked items of this key come before ``c`` (at least; _FAR: unknown, many)."""
        if c.item_id in self.head:
            return self.head.index(c.item_id)
        fresh = c.parked_scope != self.name
        return len(self.head) if fresh and len(self.head) < self.head_limit else _FAR

    def allows(self, c: Candidate) -> bool:
        return self.position(c) < self.room()

    def take(self, c: Candidate, lease_end: int) -> None:
        self.taken.append(c.item_id)
        self.soonest_lease_end = min(self.soonest_lease_end or lease_end, lease_end)
        if c.item_id in self.head:
            self.head.remove(c.item_id)

    def why(self, now: int) -> Park:
        if self.running_room() <= self.start_room():
            return Park(self.name, CONCURRENCY, max(now, self.soonest_lease_end or now))
        return Park(self.name, RATE, self.next_start(now))

    def next_start(self, now: int) -> int:
        return self.start_times(now, 1)[0]

    def start_times(self, now: int, count: int) -> list[int]:
        """When each of the next ``count`` starts may be: now, or as old ones leave the window."""
        starts = self.starts + [now] * len(self.taken)
        free = max(0, (self.limit.rate or 0) - len(starts))
        later = [at + self.limit.per_ms for at in starts[: max(0, count - free)]]
        return ([now] * free + later)[:count] or [now]


def admit(
    db: peewee.Database, candidates: Sequence[Candidate], lease_end: int
) -> dict[int, tuple[str, ...] | Park]:
    """Each limited candidate's verdict: the scopes it now holds, or why it is parked.

    Admitted candidates start now under leases that end at ``lease_end``.
    """
    limited = sorted(
        (c for c in candidates if c.scopes),
        key=lambda c: (c.parked_since is None, c.parked_since or 0, c.item_id),
    )
    if not limited:
        return {}
    wanted = {name: limit for c in limited for name, limit in c.scopes}
    scopes = _lock(db, wanted)
    now = now_ms()  # after the wait for the locks: starts are recorded when they happen
    _load(db, list(scopes.values()), now)
    ids = [c.item_id for c in limited]
    run(db, f"DELETE FROM limit_slots WHERE item_id IN ({placeholders(len(ids))})", ids)  # noqa: S608
    verdicts: dict[int, tuple[str, ...] | Park] = {}
    for c in limited:
        blocked = next((scopes[name] for name, _ in c.scopes if not scopes[name].allows(c)), None)
        if blocked is None:
            for name, _ in c.scopes:
                scopes[name].take(c, lease_end)
            verdicts[c.item_id] = tuple(name for name, _ in c.scopes)
        else:
            verdicts[c.item_id] = blocked.why(now)
    _write(db, limited, verdicts, now)
    _wake(db, scopes.values(), now)
    return verdicts


def release(db: peewee.Database, held: Sequence[tuple[int, Sequence[str]]]) -> None:
    """Give back the slots of attempts that ended, and wake who may run now."""
    held = [(item_id, scopes) for item_id, scopes in held if scopes]
    if not held:
        return
    ids = [item_id for item_id, _ in held]
    run(db, f"DELETE FROM limit_slots WHERE item_id IN ({placeholders(len(ids))})", ids)  # noqa: S608
    names = sorted({name for _, scopes in held for name in scopes})
    sql = _LOCKED_SQL.format(m=placeholders(len(names))) + " ORDER BY scope" + for_update(db)
    found = rows(db, sql, names)
    now = now_ms()
    scopes = [_scope_of(row) for row in found]
    _load(db, scopes, now, with_head=False)
    _wake(db, scopes, now)


def forget_slots(db: peewee.Database, item_ids: Sequence[int]) -> None:
    """Drop the slots of abandoned attempts (their claimer died) before these items start again.

    Needed because an attempt abandoned before its handler ran keeps its
    number, so its old slot would otherwise count again beside the new one.
    """
    if item_ids:
        marks = placeholders(len(item_ids))
        run(db, f"DELETE FROM limit_slots WHERE item_id IN ({marks})", item_ids)  # noqa: S608


def wake_parked(db: peewee.Database, job_type: str, now: int) -> int:
    """Wake every parked item of ``job_type`` (its limits changed); returns how many."""
    found = rows(
        db,
        "SELECT id, job_id FROM items WHERE limit_scope LIKE ? ESCAPE '\\' AND status IN (?, ?)"
        " ORDER BY limited_since, id LIMIT 100000",
        [job_type.replace("%", r"\%").replace("_", r"\_") + "|%", QUEUED, RETRYING],
    )
    _wake_now(db, [(row, job_type) for row in found], now)
    return len(found)


def _lock(db: peewee.Database, wanted: dict[str, Limit]) -> dict[str, _Scope]:
    """Lock each scope's row in name order (no deadlock between two claims)."""
    names = sorted(wanted)
    run_many(
        db,
        _LOCK_SQL,
        [
            (n, n.split("|", 1)[0], wanted[n].concurrency, wanted[n].rate, wanted[n].per_ms)
            for n in names
        ],
    )
    return {n: _Scope(n, wanted[n]) for n in names}


def _scope_of(row: dict) -> _Scope:
    per_s = (row["per_ms"] or 1000) / 1000
    limit = Limit(concurrency=row["concurrency"], rate=row["rate"], per_s=per_s)
    return _Scope(row["scope"], limit)


def _load(
    db: peewee.Database, scopes: Sequence[_Scope], now: int, *, with_head: bool = True
) -> None:
    """Fill each key's running slots, starts in its window and (``with_head``) queue head."""
    by_name = {scope.name: scope for scope in scopes}
    counted = [s.name for s in scopes if s.limit.concurrency is not None]
    if counted:
        sql = _LIVE_SQL.format(m=placeholders(len(counted)))
        for row in rows(db, sql, [*counted, RUNNING, now]):
            scope = by_name[row["scope"]]
            scope.live, scope.soonest_lease_end = int(row["n"]), row["soonest"]
    rated = [s for s in scopes if s.limit.rate is not None]
    if rated:
        run_many(db, _PRUNE_SQL, [(s.name, now - s.limit.per_ms) for s in rated])
        widest = max(s.limit.per_ms for s in rated)
        sql = _STARTS_SQL.format(m=placeholders(len(rated)))
        for row in rows(db, sql, [*(s.name for s in rated), now - widest]):
            scope = by_name[row["scope"]]
            if int(row["at"]) > now - scope.limit.per_ms:
                scope.starts.append(int(row["at"]))
    if with_head:
        for scope in scopes:
            scope.head_limit = max(0, min(scope.room(), MAX_WAKE))
        heads = _queues(db, {s.name: s.head_limit for s in scopes if s.head_limit})
        for name, queue in heads.items():
            by_name[name].head = [int(row["id"]) for row in queue]


def _queues(db: peewee.Database, lengths: dict[str, int]) -> dict[str, list[dict]]:
    """The first ``lengths[key]`` parked items of each key, in queue order, in one query."""
    if not lengths:
        return {}
    params = [value for name, n in lengths.items() for value in (name, QUEUED, RETRYING, n)]
    found: dict[str, list[dict]] = {name: [] for name in lengths}
    for row in rows(db, " UNION ALL ".join([_QUEUE_SQL] * len(lengths)), params):
        found[row["limit_scope"]].append(row)
    for queue in found.values():
        queue.sort(key=lambda row: (row["limited_since"], row["id"]))
    return found


def _write(
    db: peewee.Database,
    limited: Sequence[Candidate],
    verdicts: dict[int, tuple[str, ...] | Park],
    now: int,
) -> None:
    slots, starts, parks, unparks = [], [], [], []
    for c in limited:
        verdict = verdicts[c.item_id]
        if isinstance(verdict, Park):
            parks.append(
                (
                    verdict.scope,
                    verdict.reason,
                    verdict.until,
                    now,
                    now,
                    RUNNING,
                    RETRYING,
                    c.item_id,
                )
            )
            continue
        if c.parked_scope is not None:
            unparks.append((c.item_id,))
        for name, limit in c.scopes:
            if limit.concurrency is not None:
                slots.append((name, c.item_id, c.attempt))
            if limit.rate is not None:
                starts.append((name, now))
    run_many(db, "INSERT INTO limit_slots (scope, item_id, attempt) VALUES (?, ?, ?)", slots)
    run_many(db, "INSERT INTO limit_starts (scope, at) VALUES (?, ?)", starts)
    run_many(db, _PARK_SQL, parks)
    run_many(db, _UNPARK_SQL, unparks)


def _wake(db: peewee.Database, scopes: Iterable[_Scope], now: int) -> None:
    """Per key: wake as many parked items as may run now, else give the next ones due times.

    Concurrency full: the head alone, when a holder's lease would end (its
    executor may have died). Rate full: the next ``rate``, each when a start
    leaves the window. Items another transaction has locked are skipped: it
    is claiming them.
    """
    plans: list[tuple[_Scope, int, list[int] | None]] = []
    for scope in scopes:
        room = max(0, min(scope.room(), MAX_WAKE))
        if room:
            plans.append((scope, room, None))
        elif scope.running_room() <= 0:
            plans.append((scope, 1, [max(now, scope.soonest_lease_end or now)]))
        else:
            wanted = min(scope.limit.rate or 1, MAX_WAKE)
            plans.append((scope, wanted, scope.start_times(now, wanted)))
    queues = _queues(db, {scope.name: wanted for scope, wanted, _ in plans})
    mine = _lock_parked(db, [int(row["id"]) for queue in queues.values() for row in queue])
    at_once: list[tuple[dict, str]] = []
    later: list[tuple[dict, str, int]] = []
    for scope, _wanted, dues in plans:
        queue = [row for row in queues[scope.name] if int(row["id"]) in mine]
        if dues is None:
            at_once += [(row, scope.job_type) for row in queue]  # their claims look further
        else:
            later += [(row, scope.job_type, due) for row, due in zip(queue, dues, strict=False)]
    _wake_now(db, at_once, now)
    _wake_later(db, later, now)


def _lock_parked(db: peewee.Database, ids: list[int]) -> set[int]:
    """Those of ``ids`` still parked, locked; on PostgreSQL skipping rows another holds."""
    if not ids:
        return set()
    sql = _STILL_PARKED_SQL.format(m=placeholders(len(ids))) + for_update(db, skip_locked=True)
    return {int(row["id"]) for row in rows(db, sql, [*ids, QUEUED, RETRYING])}


def _pending(db: peewee.Database, ids: list[int]) -> set[int]:
    found = rows(db, _PENDING_SQL.format(m=placeholders(len(ids))), ids)
    return {int(row["item_id"]) for row in found}


def _wake_now(db: peewee.Database, found: list[tuple[dict, str]], now: int) -> None:
    """Publish these parked items now: bring a later wake-up forward, or add one."""
    if not found:
        return
    ids = [int(row["id"]) for row, _ in found]
    run(db, _HURRY_SQL.format(m=placeholders(len(ids))), [now, *ids, now])
    pending = _pending(db, ids)
    entries = [
        OutboxEntry(row["job_id"], job_type, now, int(row["id"]))
        for row, job_type in found
        if int(row["id"]) not in pending
    ]
    enqueue(db, entries, now)


def _wake_later(db: peewee.Database, found: list[tuple[dict, str, int]], now: int) -> None:
    """Due times for parked items that have no message coming yet."""
    if not found:
        return
    pending = _pending(db, [int(row["id"]) for row, _, _ in found])
    entries = [
        OutboxEntry(row["job_id"], job_type, due, int(row["id"]))
        for row, job_type, due in found
        if int(row["id"]) not in pending
    ]
    enqueue(db, entries, now)

"""Sliding-window counters of failed logins, per email and per client address, in the database."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Sequence

import peewee

from workq_core.db import database_errors, is_postgres
from workq_core.db.sql import now_ms, rows, run, write_transaction
from workq_core.errors import RateLimited

PRUNE_EVERY_MS = 60_000

# Replicas counting the same key take turns: the lock lasts until the counting
# transaction ends, so the count each one reads includes the others' attempts.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext(?))"
_WINDOW_SQL = "SELECT at FROM login_attempts WHERE key = ? AND at > ? ORDER BY at"
_EXPIRED_SQL = "DELETE FROM login_attempts WHERE key = ? AND at <= ?"
_INSERT_SQL = "INSERT INTO login_attempts (key, at) VALUES (?, ?) RETURNING id"
_GIVE_BACK_SQL = "DELETE FROM login_attempts WHERE id = ?"
_PRUNE_SQL = "DELETE FROM login_attempts WHERE at <= ?"


class LoginLimiter:
    """Allows ``max_attempts`` failures per key within ``window_s``, across every replica.

    An attempt is counted before the password is checked (so parallel or
    aliased attempts cannot overtake the count) and given back when it
    succeeds. The counts live in ``login_attempts``, so every auth process on
    one database shares them and a restart forgets nothing.
    """

    def __init__(
        self,
        db: peewee.Database,
        max_attempts: int,
        window_s: float,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.db = db
        self.max_attempts = max_attempts
        self.window_ms = int(window_s * 1000)
        self._clock = clock
        self._pruned_at = 0
        self._prune_lock = threading.Lock()

    def attempt(self, keys: Sequence[str]) -> list[int]:
        """Count one attempt against every key, or raise RateLimited counting none.

        Returns the ids of the counted attempts, for :meth:`succeeded`. The
        error's ``retry_after_s`` is when the fullest key frees a slot.
        """
        ordered = sorted({_digest(key) for key in keys})  # one lock order: no deadlock
        with database_errors(), write_transaction(self.db):
            now = self._clock()
            wait_ms = max(self._wait_ms(key, now) for key in ordered)
            if wait_ms > 0:
                retry_after_s = math.ceil(wait_ms / 1000)
                raise RateLimited(
                    f"Too many login attempts; try again in {retry_after_s} s.",
                    retry_after_s=retry_after_s,
                )
            ids = []
            for key in ordered:
                ids.append(int(rows(self.db, _INSERT_SQL, (key, now))[0]["id"]))
        self._prune(now)
        return ids

    def succeeded(self, ids: Sequence[int]) -> None:
        """Give back the attempts a successful login counted."""
        with database_errors(), write_transaction(self.db):
            for attempt_id in ids:
                run(self.db, _GIVE_BACK_SQL, (attempt_id,))

    def _wait_ms(self, key: str, now: int) -> int:
        """0 if ``key`` has a free slot, else how long until its oldest counted attempt expires."""
        if is_postgres(self.db):
            run(self.db, _LOCK_SQL, (key,))
        since = now - self.window_ms
        run(self.db, _EXPIRED_SQL, (key, since))
        window = [int(r["at"]) for r in rows(self.db, _WINDOW_SQL, (key, since))]
        if len(window) < self.max_attempts:
            return 0
        return max(1, window[len(window) - self.max_attempts] + self.window_ms - now)

    def _prune(self, now: int) -> None:
        """Now and then, forget every key's expired attempts (keys never tried again too)."""
        with self._prune_lock:
            if now - self._pruned_at < PRUNE_EVERY_MS:
                return
            self._pruned_at = now
        with database_errors(), write_transaction(self.db):
            run(self.db, _PRUNE_SQL, (now - self.window_ms,))


def _digest(key: str) -> str:
    """The stored form of a key: any text fits (NUL too), and no email is kept in clear."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

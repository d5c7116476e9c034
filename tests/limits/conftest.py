"""A migrated database with one user, and helpers to claim and finish items the executor's way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import peewee
import pytest

from tests.executor.conftest import make_pipeline, pipeline_env  # noqa: F401 - shared fixtures
from workq_core.db import connect, migrate
from workq_core.db.sql import rows, run
from workq_core.executor import attempts
from workq_core.executor.attempts import Claim, Outcome
from workq_core.jobs.messages import ItemRef
from workq_core.jobs.submission import submit_job
from workq_core.limits import Limit


class Items:
    """Submit items, claim them with given limits, record outcomes; read what the database says."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        email = f"{uuid.uuid4().hex}@example.com"
        run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", (email, "x"))
        self.user_id = int(rows(db, "SELECT id FROM users WHERE email = ?", (email,))[0]["id"])
        self.limits: dict[str, Sequence[Limit]] = {}

    def submit(self, items: list[dict[str, Any]], job_type: str = "Probe") -> list[ItemRef]:
        job_id = submit_job(
            self.db, user_id=self.user_id, job_type=job_type, items=items, max_attempts=3
        ).job_id
        found = rows(
            self.db, "SELECT id, idx, attempts FROM items WHERE job_id = ? ORDER BY idx", (job_id,)
        )
        return [ItemRef(job_id, int(r["id"]), int(r["idx"]), int(r["attempts"])) for r in found]

    def claim(self, refs: Sequence[ItemRef], lease_ms: int = 60_000) -> list[Claim]:
        return attempts.claim(self.db, refs, lease_ms, lambda name: self.limits.get(name, ()))

    def complete(self, claims: Sequence[Claim]) -> list[bool]:
        return attempts.record(self.db, [Outcome(c, result_json="{}") for c in claims])

    def item(self, ref: ItemRef) -> dict[str, Any]:
        return rows(self.db, "SELECT * FROM items WHERE id = ?", (ref.item_id,))[0]

    def woken(self) -> list[tuple[int, int]]:
        """(item_id, due_at) of the outbox rows for single items, oldest first."""
        found = rows(
            self.db, "SELECT item_id, due_at FROM outbox WHERE item_id IS NOT NULL ORDER BY id"
        )
        return [(int(r["item_id"]), int(r["due_at"])) for r in found]

    def clear_outbox(self) -> None:
        run(self.db, "DELETE FROM outbox")

    def ref(self, ref: ItemRef) -> ItemRef:
        """The message the relay would publish for the item now."""
        return ItemRef(ref.job_id, ref.item_id, ref.index, int(self.item(ref)["attempts"]))


@pytest.fixture
def items(database_url: str) -> Iterator[Items]:
    db = connect(database_url)
    migrate(db)
    with db.connection_context():
        yield Items(db)
    db.close()

"""Items remember when their current attempt was claimed, apart from when its handler started.

A batch claim leases every item of the batch at once, but a worker thread
runs them one after another. ``claimed_at`` (with ``attempts``) now names the
claim that owns an item, so ``started_at`` can mean what it says: set when
the handler starts, cleared when the thread moves on. After a crash, an item
whose handler was not running is claimed again under its same attempt
number; ``claimed_at`` keeps a frozen or dead claimer from committing over
the new one (docs/reliability.md, "What a crash costs").
"""

from __future__ import annotations

import peewee

VERSION = 13
NAME = "items_claimed_at"


def apply(db: peewee.Database) -> None:
    db.execute_sql("ALTER TABLE items ADD COLUMN claimed_at BIGINT")

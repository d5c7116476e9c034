"""Executors report when they last ran dry, not when they last received something.

"Got nothing for a while" told the sweep that messages were lost only once
every executor of a type sat completely idle, so a trickle of retries kept
lost messages (those a paused or killed consumer held) waiting. "A free
thread found nothing to receive" says the broker has nothing it can hand
over, whatever else is running.
"""

from __future__ import annotations

import peewee

VERSION = 11
NAME = "executors_ran_dry"


def apply(db: peewee.Database) -> None:
    db.execute_sql("ALTER TABLE executors RENAME COLUMN last_delivery_at TO ran_dry_at")

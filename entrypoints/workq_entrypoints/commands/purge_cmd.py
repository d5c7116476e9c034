"""``workq purge``: delete finished jobs older than a duration, now, straight in the database.

An operator's command, like ``workq migrate``: it needs the database URL and
nothing else (no API login), so who may purge is whoever holds the database
credentials. It takes the same ``retention`` lease as the jobs services'
background task, so the two never purge at once.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from workq_entrypoints.options import runtime_from


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "purge",
        parents=[parent],
        help="delete finished jobs (and their items) older than a duration (operators)",
    )
    parser.add_argument(
        "--older-than",
        metavar="DURATION",
        help="age such as 30d, 12h, 90m (default: retention.max_age)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from workq_core import WorkqError
    from workq_core.config.durations import parse_duration_ms
    from workq_core.db import close_database, connect, migrate
    from workq_core.db.sql import now_ms
    from workq_core.retention.task import purge_once

    runtime = runtime_from(args)
    retention = runtime.settings.retention
    text = args.older_than if args.older_than is not None else retention.max_age
    where = "--older-than" if args.older_than is not None else "retention.max_age"
    max_age_ms = parse_duration_ms(text, where)
    if max_age_ms <= 0:
        raise WorkqError(f"{where}: 0 keeps finished jobs forever; give an age such as 30d")
    db = connect(runtime.settings.database_url)
    try:
        migrate(db)
        cutoff = datetime.fromtimestamp((now_ms() - max_age_ms) / 1000, UTC)
        result = purge_once(db, retention, max_age_ms, f"purge-cli-{os.getpid()}")
    finally:
        close_database(db)
    if result is None:
        raise WorkqError("another purge holds the retention lease; try again in a minute")
    print(
        f"deleted {result.jobs} finished jobs ({result.items} items) "
        f"finished before {cutoff.isoformat(timespec='seconds')}"
    )
    return 0

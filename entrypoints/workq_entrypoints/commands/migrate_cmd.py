"""``workq migrate``: bring the database schema up to date (safe to run any time)."""

from __future__ import annotations

import argparse
from typing import Any

from workq_entrypoints.options import runtime_from


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "migrate", parents=[parent], help="apply pending database migrations"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workq_core.db import applied_versions, connect, migrate

    runtime = runtime_from(args)
    db = connect(runtime.settings.database_url)
    applied = migrate(db)
    current = applied_versions(db)
    if hasattr(db, "close_all"):
        db.close_all()
    print(
        f"applied migrations {applied}; schema at version {max(current, default=0)}"
        if applied
        else f"schema up to date at version {max(current, default=0)}"
    )
    return 0

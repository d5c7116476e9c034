"""``workq list``: your recent jobs as a table (``workq jobs`` runs the jobs service)."""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from workq_entrypoints.session import add_jobs_url, client_command, jobs_client
from workq_entrypoints.tables import format_table

PAGE_MAX = 100
COLUMNS = ("ID", "TYPE", "STATUS", "DONE/SIZE", "DEAD", "CREATED")


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list your recent jobs (the jobs service itself is `workq jobs`)",
        description="List your jobs, newest first. Not to be confused with `workq jobs`, "
        "which runs the jobs service.",
    )
    parser.add_argument(
        "--status", help="scheduled, queued, running, cancelling, completed, failed, cancelled"
    )
    parser.add_argument("--type", help="job type name")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (default 20)")
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run))


def run(args: argparse.Namespace) -> int:
    limit = max(args.limit, 1)
    with jobs_client(args) as client:
        pages = client.jobs(args.status, args.type, page_size=min(limit, PAGE_MAX))
        jobs = [job.to_dict() for job in itertools.islice(pages, limit)]
    print(table(jobs) if jobs else "no jobs")
    return 0


def table(jobs: list[dict[str, Any]]) -> str:
    return format_table(
        COLUMNS,
        [
            (
                j["id"],
                j["name"],
                j["status"],
                f"{j['completed']}/{j['size']}",
                str(j["dead"]),
                j["createdAt"],
            )
            for j in jobs
        ],
    )

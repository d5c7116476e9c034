"""``workq list``: your recent jobs as a table (``workq jobs`` runs the jobs service)."""

from __future__ import annotations

import argparse
from typing import Any

from workq_entrypoints.session import JobsSession, add_jobs_url

PAGE_MAX = 100
LIST = """query List($status: String, $type: String, $first: Int, $after: String) {
  myJobs(status: $status, type: $type, first: $first, after: $after) {
    nodes { id name status size completed dead createdAt } nextCursor } }"""
COLUMNS = ("ID", "TYPE", "STATUS", "DONE/SIZE", "DEAD", "CREATED")


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list your recent jobs (the jobs service itself is `workq jobs`)",
        description="List your jobs, newest first. Not to be confused with `workq jobs`, "
        "which runs the jobs service.",
    )
    parser.add_argument(
        "--status", help="queued, running, cancelling, completed, failed, cancelled"
    )
    parser.add_argument("--type", help="job type name")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N (default 20)")
    add_jobs_url(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    jobs = fetch_jobs(JobsSession(args), args.status, args.type, max(args.limit, 1))
    print(table(jobs) if jobs else "no jobs")
    return 0


def fetch_jobs(
    session: JobsSession, status: str | None, job_type: str | None, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` jobs, following cursors since one page holds at most 100."""
    jobs: list[dict[str, Any]] = []
    cursor = None
    while len(jobs) < limit:
        variables = {
            "status": status,
            "type": job_type,
            "first": min(limit - len(jobs), PAGE_MAX),
            "after": cursor,
        }
        page = session.execute(LIST, variables)["myJobs"]
        jobs += page["nodes"]
        cursor = page["nextCursor"]
        if not cursor:
            break
    return jobs[:limit]


def table(jobs: list[dict[str, Any]]) -> str:
    rows = [COLUMNS] + [
        (
            j["id"],
            j["name"],
            j["status"],
            f"{j['completed']}/{j['size']}",
            str(j["dead"]),
            j["createdAt"],
        )
        for j in jobs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )

"""``workq status``: one job's status, counts, timestamps and first failed items."""

from __future__ import annotations

import argparse
import itertools
import json
from typing import Any

from workq_entrypoints.progress import render_job
from workq_entrypoints.session import add_jobs_url, client_command, jobs_client

FAILED_SHOWN = 5
FAILED = (("deadItems", "dead"), ("retryingItems", "retrying"))

COUNTS = ("queued", "running", "retrying", "completed", "dead", "cancelled")
TIMES = (
    ("run at", "runAt"),
    ("created", "createdAt"),
    ("updated", "updatedAt"),
    ("finished", "finishedAt"),
    ("cancelled", "cancelledAt"),
)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("status", help="show a job's status and progress")
    parser.add_argument("job_id", metavar="JOB_ID")
    parser.add_argument("--json", action="store_true", help="print the job record as JSON")
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run))


def run(args: argparse.Namespace) -> int:
    with jobs_client(args) as client:
        job = client.job(args.job_id).to_dict()
        for key, status in FAILED:
            items = client.items(args.job_id, status, page_size=FAILED_SHOWN)
            job[key] = [item.to_dict() for item in itertools.islice(items, FAILED_SHOWN)]
    print(json.dumps(job, indent=2) if args.json else describe(job))
    return 0


def describe(job: dict[str, Any]) -> str:
    """The human summary of a job record: what, how far, when, and why items failed."""
    lines = [f"job {job['id']} ({job['name']})", render_job(job)]
    lines.append(
        "  ".join(f"{name} {job[name]}" for name in COUNTS) + f"  priority {job['priority']}"
    )
    lines += [f"{label:<9} {job[key]}" for label, key in TIMES if job.get(key)]
    failed = (job.get("deadItems") or []) + (job.get("retryingItems") or [])
    if failed:
        lines.append("failed items:")
    for item in sorted(failed, key=lambda i: i["index"])[:FAILED_SHOWN]:
        error = ": ".join(part for part in (item.get("errorType"), item.get("lastError")) if part)
        lines.append(
            f"  #{item['index']} {item['status']} after {item['attempts']} attempt(s): {error}"
        )
    return "\n".join(lines)

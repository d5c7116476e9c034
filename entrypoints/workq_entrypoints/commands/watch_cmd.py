"""``workq watch``: follow a job with a progress bar until it is final."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workq_entrypoints.progress import LinePrinter, follow
from workq_entrypoints.session import add_jobs_url, client_command, jobs_client


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="follow a job until it finishes (exit 0 completed, 1 failed or cancelled)",
    )
    parser.add_argument("job_id", metavar="JOB_ID")
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="poll interval where the service pushes no updates (default 1)",
    )
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run))


def run(args: argparse.Namespace) -> int:
    with jobs_client(args) as client:
        final = follow(client, args.job_id, LinePrinter(sys.stdout), max(args.interval, 0.1))
    return 0 if final["status"] == "completed" else 1

"""``workq limits``: show the concurrency and rate limits in force; admins set or reset them."""

from __future__ import annotations

import argparse
import json
from typing import Any

import workq
from workq_entrypoints.session import add_jobs_url, client_command, jobs_client


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "limits",
        help="show or (admins) change job types' concurrency and rate limits",
        description="Limits hold across every executor; see docs/limits.md.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the limits in force, per job type")
    show.add_argument("job_type", nargs="?", metavar="JOB_TYPE", help="only this job type")
    show.add_argument("--json", action="store_true", help="print them as JSON")
    change = actions.add_parser("set", help="replace a job type's limits with one limit")
    change.add_argument("job_type", metavar="JOB_TYPE")
    change.add_argument(
        "--key", help='count per "user" or per value at a JSON pointer ("/customer_id")'
    )
    change.add_argument("--concurrency", type=int, metavar="N", help="most items running at once")
    change.add_argument("--rate", type=int, metavar="N", help="most attempts starting per period")
    change.add_argument("--per", type=float, default=1.0, metavar="S", help="rate period, seconds")
    reset = actions.add_parser("reset", help="drop the override: what the job type declares")
    reset.add_argument("job_type", metavar="JOB_TYPE")
    for sub in (show, change, reset):
        add_jobs_url(sub)
        sub.set_defaults(handler=client_command(run))


def run(args: argparse.Namespace) -> int:
    with jobs_client(args) as client:
        if args.action == "show":
            found = client.limits(args.job_type)
        elif args.action == "set":
            limit = workq.Limit(args.key, args.concurrency, args.rate, args.per)
            found = [client.set_limits(args.job_type, [limit])]
        else:
            found = [client.set_limits(args.job_type, None)]
    if getattr(args, "json", False):
        print(json.dumps([f.to_dict() for f in found], indent=2))
    else:
        print("\n".join(describe(f) for f in found))
    return 0


def describe(found: workq.JobTypeLimits) -> str:
    """One line per job type: its name, where its limits come from, and each limit."""
    parts = [describe_limit(limit) for limit in found.limits] or ["no limits"]
    return f"{found.job_type} ({found.source}): " + "; ".join(parts)


def describe_limit(limit: workq.Limit) -> str:
    bounds = []
    if limit.concurrency is not None:
        bounds.append(f"{limit.concurrency} running")
    if limit.rate is not None:
        bounds.append(f"{limit.rate} per {limit.per_s:g}s")
    return " and ".join(bounds) + f" per {limit.key or 'job type'}"

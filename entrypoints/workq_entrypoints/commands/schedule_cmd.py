"""``workq schedule``: create, list, show, pause, resume and delete your schedules."""

from __future__ import annotations

import argparse
import json
from typing import Any, cast

import workq
from workq_entrypoints.commands.submit_cmd import parse_data
from workq_entrypoints.session import add_jobs_url, client_command, jobs_client
from workq_entrypoints.tables import format_table

COLUMNS = ("ID", "NAME", "TYPE", "WHEN", "NEXT RUN", "STATE", "RUNS", "SKIPPED")


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="create, list, pause, resume and delete your schedules",
        description="Durable recurring submissions (docs/schedules.md).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _create_parser(actions)
    listing = actions.add_parser("list", help="your schedules (an admin's: everyone's)")
    listing.add_argument("--json", action="store_true", help="print the records as JSON")
    add_jobs_url(listing)
    listing.set_defaults(handler=client_command(run_list))
    for action, help_text in (
        ("show", "print one schedule as JSON"),
        ("pause", "stop firing it until resumed"),
        ("resume", "fire it again from its first run after now"),
        ("delete", "delete it (the jobs it submitted stay)"),
    ):
        one = actions.add_parser(action, help=help_text)
        one.add_argument("id", metavar="ID", help="the schedule's id (see `workq schedule list`)")
        add_jobs_url(one)
        one.set_defaults(handler=client_command(run_one))


def _create_parser(actions: Any) -> None:
    create = actions.add_parser(
        "create",
        help="create a schedule and print its id",
        description="Each run submits DATA as one job of job type --type. Give --cron "
        "(five fields, in --timezone) or --every SECONDS.",
    )
    create.add_argument("name", metavar="NAME", help="unique among your schedules")
    create.add_argument("--type", required=True, metavar="JOB_TYPE", help="e.g. Fibonacci")
    create.add_argument(
        "--data", required=True, metavar="JSON|@FILE", help="the items, as for `workq submit`"
    )
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='e.g. "30 2 * * *" (02:30 daily)')
    when.add_argument("--every", type=int, metavar="SECONDS", help="a fixed interval")
    create.add_argument("--timezone", metavar="ZONE", help="IANA zone of --cron (default UTC)")
    create.add_argument(
        "--missed",
        choices=("SKIP", "RUN_ONCE", "RUN_ALL"),
        help="runs missed while no scheduler ran (default RUN_ONCE)",
    )
    create.add_argument("--max-catch-up", type=int, metavar="N", help="RUN_ALL's bound (10)")
    create.add_argument(
        "--overlap",
        choices=("SKIP", "ALLOW"),
        help="while the previous run's job is unfinished (default SKIP)",
    )
    create.add_argument("--paused", action="store_true", help="create it paused")
    create.add_argument("--json", action="store_true", help="print the whole record as JSON")
    add_jobs_url(create)
    create.set_defaults(handler=client_command(run_create))


def run_create(args: argparse.Namespace) -> int:
    data = parse_data(args.data)  # before anything else: a typo costs no request
    with jobs_client(args) as client:
        schedule = client.create_schedule(args.name, args.type, data, **_options(args))
    print(json.dumps(schedule.to_dict(), indent=2) if args.json else schedule.id)
    return 0


def _options(args: argparse.Namespace) -> workq.ScheduleOptions:
    """The flags given, as the client's keywords (the server's defaults for the rest)."""
    given = {
        "cron": args.cron,
        "timezone": args.timezone,
        "interval_s": args.every,
        "missed_runs": args.missed,
        "max_catch_up": args.max_catch_up,
        "overlap": args.overlap,
        "paused": args.paused or None,
    }
    return cast(workq.ScheduleOptions, {k: v for k, v in given.items() if v is not None})


def run_list(args: argparse.Namespace) -> int:
    with jobs_client(args) as client:
        schedules = list(client.schedules())
    if args.json:
        print(json.dumps([s.to_dict() for s in schedules], indent=2))
    else:
        print(table(schedules) if schedules else "no schedules")
    return 0


def run_one(args: argparse.Namespace) -> int:
    with jobs_client(args) as client:
        if args.action == "delete":
            client.delete_schedule(args.id)
            print(f"deleted {args.id}")
            return 0
        schedule = {
            "show": client.schedule,
            "pause": client.pause_schedule,
            "resume": client.resume_schedule,
        }[args.action](args.id)
    if args.action == "show":
        print(json.dumps(schedule.to_dict(), indent=2))
    else:
        print(f"{schedule.id} {'paused' if schedule.paused else 'active'}")
    return 0


def table(schedules: list[workq.Schedule]) -> str:
    return format_table(
        COLUMNS,
        [
            (
                s.id,
                s.name,
                s.job_type,
                f"cron {s.cron} {s.timezone}" if s.cron else f"every {s.interval_s}s",
                s.to_dict()["nextRunAt"],
                "paused" if s.paused else "active",
                str(s.runs),
                str(s.skipped_runs),
            )
            for s in schedules
        ],
    )

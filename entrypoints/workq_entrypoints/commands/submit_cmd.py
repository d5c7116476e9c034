"""``workq submit``: submit a job from inline JSON or a file and print its id."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from workq_entrypoints.session import InvalidData, add_jobs_url, client_command, jobs_client


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="submit a job and print its id",
        description="Submit a job. DATA is one JSON object (one item) or a list of objects.",
    )
    parser.add_argument("name", metavar="NAME", help="job type, e.g. Fibonacci")
    parser.add_argument(
        "--data",
        required=True,
        metavar="JSON|@FILE",
        help="the items as JSON, or @path to read them from a file (@- for stdin)",
    )
    parser.add_argument("--idempotency-key", metavar="KEY", help="resubmitting with it is a no-op")
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--run-at",
        metavar="TIME",
        help="start no item before TIME, ISO-8601 with an offset (2026-07-01T09:00:00+02:00)",
    )
    when.add_argument(
        "--delay",
        metavar="DURATION",
        type=parse_delay,
        help="start no item before DURATION from now: 1500ms, 90s, 15m, 2h or 3d",
    )
    parser.add_argument(
        "--priority",
        type=int,
        metavar="N",
        help="-10 to 10, default 0: higher starts first among waiting jobs of the type",
    )
    parser.add_argument("--json", action="store_true", help="print the whole job record as JSON")
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run))


def run(args: argparse.Namespace) -> int:
    data = parse_data(args.data)  # before anything else: a typo costs no request
    with jobs_client(args) as client:
        job = client.submit(
            args.name,
            data,
            args.idempotency_key or None,
            run_at=args.run_at,
            delay_ms=args.delay,
            priority=args.priority,
        )
    print(json.dumps(job.to_dict(), indent=2) if args.json else job.id)
    return 0


_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")


def parse_delay(value: str) -> int:
    """``--delay`` as milliseconds: a whole number and a unit (ms, s, m, h, d)."""
    found = _DURATION.match(value.strip())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration; use a number and a unit: 1500ms, 90s, 15m, 2h, 3d"
        )
    return int(found.group(1)) * _UNITS_MS[found.group(2)]


def parse_data(value: str) -> Any:
    """The ``--data`` value as JSON: an object or a list of objects, else InvalidData."""
    text, source = _read_source(value)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidData(f"--data: {source} is not valid JSON ({exc})") from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise InvalidData(f"--data: {source} must be a JSON object or a non-empty list of objects")
    return data


def _read_source(value: str) -> tuple[str, str]:
    if not value.startswith("@"):
        return value, "the value"
    path = value[1:]
    if path == "-":
        return sys.stdin.read(), "standard input"
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), path
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidData(f"--data: cannot read {path} ({reason})") from None

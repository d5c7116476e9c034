"""``workq quota``: your submission quotas; admins read and set any user's (docs/quotas.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import workq
from workq_entrypoints.session import add_jobs_url, client_command, jobs_client, load_credentials
from workq_entrypoints.tables import format_table

CONFIGURED = "configured"
# option dest -> set_user_quota keyword (the same names)
QUOTAS = ("items_per_minute", "items_waiting")
USAGE = """workq quota [EMAIL] [--json]
       workq quota set EMAIL [--items-per-minute N|configured] [--items-waiting N|configured]"""


def quota_value(text: str) -> int | None:
    """A whole number, 0 or more (0 is unlimited), or ``configured``: back to the setting (None)."""
    if text == CONFIGURED:
        return None
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 (unlimited) to 2147483647, or {CONFIGURED!r};"
            f" got {text!r}"
        )
    return int(text)


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "quota",
        usage=USAGE,
        help="show your submission quotas; admins show or set any user's",
        description="Quotas cap what one user may submit; see docs/quotas.md. Without EMAIL, "
        "yours; with EMAIL (admins), that user's; `set EMAIL` (admins) gives the user quotas "
        "of their own.",
    )
    parser.add_argument("words", nargs="*", metavar="EMAIL", help="[set] EMAIL, as in the usage")
    for flag, what in (
        ("--items-per-minute", "items the user may submit per clock minute"),
        ("--items-waiting", "of the user's items that may be unfinished"),
    ):
        parser.add_argument(
            flag,
            type=quota_value,
            default=argparse.SUPPRESS,  # absent: that quota is kept (None would clear it)
            metavar="N",
            help=f"with set: most {what}; 0 is unlimited, `{CONFIGURED}` the service's setting",
        )
    parser.add_argument("--json", action="store_true", help="print the quota as JSON")
    add_jobs_url(parser)
    parser.set_defaults(handler=client_command(run), quota_parser=parser)


def changes_from(args: argparse.Namespace) -> workq.QuotaChanges:
    """The quota options given on the command line; one left out keeps that quota."""
    changes: workq.QuotaChanges = {}
    for name in QUOTAS:
        if hasattr(args, name):
            changes[name] = getattr(args, name)  # type: ignore[literal-required]
    return changes


def parse_words(args: argparse.Namespace, changes: workq.QuotaChanges) -> tuple[bool, str | None]:
    """``(set?, email)`` from the positional words; a usage error (exit 2) for any other shape."""
    parser: argparse.ArgumentParser = args.quota_parser
    words = list(args.words)
    setting = bool(words) and words[0] == "set"
    if setting:
        words.pop(0)
        if len(words) != 1:
            parser.error("set: give exactly one EMAIL")
        if not changes:
            parser.error("set: give --items-per-minute and/or --items-waiting")
    elif len(words) > 1:
        parser.error(f"expected at most one EMAIL, got {' '.join(words)!r}")
    elif changes:
        parser.error("--items-per-minute and --items-waiting go with `workq quota set EMAIL`")
    return setting, words[0] if words else None


def run(args: argparse.Namespace) -> int:
    changes = changes_from(args)
    setting, email = parse_words(args, changes)
    with jobs_client(args) as client:
        if setting:
            assert email is not None
            quota = client.set_user_quota(email, **changes)
        elif email is not None:
            quota = client.user_quota(email)
        else:
            quota = client.my_quota()
    if args.json:
        print(json.dumps(quota.to_dict(), indent=2))
    else:
        print(describe(quota, email or load_credentials().email))
    return 0


def describe(quota: workq.Quota, email: str) -> str:
    """The user, then one row per quota: its limit, where it comes from, what is used now."""
    rows = [
        (
            "items per minute",
            limit_text(quota.items_per_minute),
            quota.items_per_minute_source.lower(),
            f"{quota.used_this_minute} this minute",
        ),
        (
            "items waiting",
            limit_text(quota.items_waiting),
            quota.items_waiting_source.lower(),
            f"{quota.waiting} waiting",
        ),
    ]
    table = format_table(("QUOTA", "LIMIT", "SOURCE", "USED"), rows)
    return f"Quotas of {email} (user {quota.user_id}):\n{table}"


def limit_text(limit: int) -> str:
    return "unlimited" if limit == 0 else str(limit)

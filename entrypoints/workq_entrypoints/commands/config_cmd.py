"""``workq config``: the effective configuration, secrets masked, with each value's source."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from workq_core.config import SERVICES, Settings
from workq_entrypoints.options import runtime_from

MASK = "********"


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "config", parents=[parent], help="show the effective configuration and its sources"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--service",
        choices=SERVICES,
        # not ``service``: cli.main reads that as "a long-running service command"
        dest="dotenv_service",
        help="show what `workq SERVICE` runs with: .env.SERVICE over .env "
        "(default: only .env, as `workq up`, `migrate` and `plugins` read)",
    )
    parser.set_defaults(handler=run)


def effective(settings: Settings) -> list[dict[str, Any]]:
    """Every key with its value (secrets masked), source and help text."""
    rows = []
    for section_name, section in settings.sections.items():
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if f.metadata.get("secret") and value:
                value = MASK
            key = f"{section_name}.{f.name}"
            rows.append(
                {
                    "key": key,
                    "value": list(value) if isinstance(value, tuple) else value,
                    "source": settings.sources[key],
                    "help": f.metadata.get("help", ""),
                }
            )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = effective(runtime_from(args, configure_logs=False).settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(row["key"]) for row in rows)
    for row in rows:
        print(f"{row['key']:<{width}}  {json.dumps(row['value'])}  ({row['source']})")
    return 0

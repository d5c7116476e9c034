"""``workq plugins``: what is installed, from where, and what it registered."""

from __future__ import annotations

import argparse
import json
from typing import Any

from workq_core.runtime import Runtime
from workq_entrypoints.options import runtime_from


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("plugins", parents=[parent], help="list installed plugins")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=run)


def describe(runtime: Runtime) -> list[dict[str, Any]]:
    """One record per loaded plugin: source, hooks implemented, names registered."""
    pm = runtime.pm
    provided: dict[str, list[str]] = {}
    for registry in runtime.catalog.registries():
        for entry in registry.entries():
            provided.setdefault(entry.plugin, []).append(f"{registry.kind} {entry.name}")
    records = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        source = pm.sources.get(name)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        records.append(
            {
                "name": name,
                "distribution": source.distribution if source else None,
                "version": source.version if source else None,
                "hooks": hooks,
                "registered": provided.get(name, []),
            }
        )
    return records


def run(args: argparse.Namespace) -> int:
    records = describe(runtime_from(args))
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    for record in records:
        dist = record["distribution"] or "(registered in code)"
        version = f" {record['version']}" if record["version"] else ""
        print(f"{record['name']}  [{dist}{version}]")
        print(f"  hooks:      {', '.join(record['hooks']) or '-'}")
        print(f"  registered: {', '.join(record['registered']) or '-'}")
    return 0

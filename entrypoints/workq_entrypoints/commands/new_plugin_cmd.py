"""``workq new-plugin NAME``: start a plugin distribution with one job type and its test."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workq_entrypoints.scaffold import PluginNames


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "new-plugin",
        help="write a new plugin distribution (one job type, its test) to start from",
        description="Write a plugin distribution: setup.cfg with the `workq` entry point, "
        "a package with one job type, a README, and a test using workq_core.testing. "
        "NAME 'word-count' gives distribution workq-word-count, package workq_word_count "
        "and job type WordCount. Nothing existing is ever overwritten.",
    )
    parser.add_argument(
        "names", metavar="NAME", type=plugin_names, help="the plugin's name, e.g. word-count"
    )
    parser.add_argument(
        "--dir",
        metavar="PATH",
        type=Path,
        help="where to write it: a new or empty directory (default ./workq-NAME)",
    )
    parser.set_defaults(handler=run)


def plugin_names(value: str) -> PluginNames:
    """NAME's derived names; an invalid NAME is a usage error saying what is allowed."""
    from workq_entrypoints.scaffold import InvalidName, PluginNames

    try:
        return PluginNames.from_name(value)
    except InvalidName as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def run(args: argparse.Namespace) -> int:
    from workq_entrypoints.scaffold import create_plugin

    names = args.names
    target = args.dir or Path(names.distribution)
    written = create_plugin(names, target)
    print(
        f"Created {target}: plugin {names.name!r} ({names.distribution}) "
        f"with job type {names.job_type}."
    )
    for path in written:
        print(f"  {path}")
    print(f"Next: cd {target} && pip install -e . && pytest")
    return 0

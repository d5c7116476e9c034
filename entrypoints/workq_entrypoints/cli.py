"""``workq``: parse the command line, start the runtime, handle errors once."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from workq_core import ConfigError, PluginError, WorkqError, __version__
from workq_core.telemetry import multiprocess
from workq_core.telemetry.tracing import shutdown_tracing
from workq_entrypoints import commands
from workq_entrypoints.options import common_options

logger = logging.getLogger(__name__)

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workq", description="Workq: plugin-driven distributed job processing."
    )
    parser.add_argument("--version", action="version", version=f"workq {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parent = common_options()
    for command in commands.ALL:
        command.register(subparsers, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    service = getattr(args, "service", False)
    if service:
        multiprocess.prepare()  # before the first metric exists (see telemetry.multiprocess)
    try:
        code = run(args)
    finally:
        if service:
            shutdown_tracing()
            multiprocess.cleanup()
    if service:
        exit_now(code)
    return code


def run(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, PluginError) as exc:
        print(f"workq: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except WorkqError as exc:
        print(f"workq: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def exit_now(code: int) -> None:
    """End a service process once it has drained and closed everything itself.

    Interpreter teardown would then run the native Pulsar and gRPC clients'
    destructors against their still-running internal threads, which sometimes
    aborts the process (SIGABRT) after a clean shutdown; the exit status must
    say how the shutdown went, so flush what we wrote and leave directly.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``workq executor``: run job items from the transport until SIGTERM."""

from __future__ import annotations

import argparse
from typing import Any

from workq_entrypoints.options import bootstrap_args, runtime_from, setting_flag


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "executor", parents=[parent], help="run job items (scale out by starting more)"
    )
    setting_flag(
        parser, "--processes", "executor.processes", help="worker processes (CPU-bound jobs)"
    )
    setting_flag(
        parser, "--threads", "executor.threads", help="threads per process (I/O-bound jobs)"
    )
    setting_flag(parser, "--dedup-store", "executor.dedup_store", help="dedup store name")
    setting_flag(
        parser,
        "--port",
        "executor.port",
        help="/metrics, /healthz and /readyz port (default 3002; 0: any free port)",
    )
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.executor.runner import run_until_signalled, start_executor
    from workq_core.shutdown import StopSignal

    stop = StopSignal()
    spawn_args = bootstrap_args(args)  # worker processes resolve the same layers
    runtime = runtime_from(args, boot=spawn_args)
    handle = start_executor(
        runtime, spawn_args=spawn_args, http_port=runtime.settings.executor.port
    )
    run_until_signalled(handle, stop)
    return 0

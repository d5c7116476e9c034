"""``workq up``: auth, jobs and executor on the embedded defaults, in one command."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workq_entrypoints.options import stack_options

if TYPE_CHECKING:
    from workq_entrypoints.stack import Stack


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "up",
        parents=[parent],
        help="run the whole system locally (SQLite + embedded broker under --data-dir)",
    )
    stack_options(parser)
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.shutdown import StopSignal
    from workq_entrypoints.stack import local_runtime, start_stack

    stop = StopSignal()
    runtime, spawn_args = local_runtime(args)
    stack = start_stack(runtime, spawn_args)
    print_banner(stack, runtime.settings.data_dir)
    try:
        stop.wait()
    finally:
        print("Stopping Workq...", flush=True)
        stack.stop()
    print("Workq stopped.", flush=True)
    return 0


def print_banner(stack: Stack, data_dir: object) -> None:
    print(
        f"Workq is up (data in {data_dir}).\n"
        f"  dashboard:      {stack.jobs_url.removesuffix('graphql')}\n"
        f"  auth GraphiQL:  {stack.auth_url}\n"
        f"  jobs GraphiQL:  {stack.jobs_url}\n"
        f"  auth gRPC:      {stack.auth.http.host}:{stack.auth.grpc_port}\n"
        f"  executor:       {stack.executor_metrics_url}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )

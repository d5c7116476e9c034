"""``workq demo``: Workq's main job end to end, on the embedded defaults."""

from __future__ import annotations

import argparse
from typing import Any

import workq
from workq_entrypoints.options import stack_options
from workq_entrypoints.session import client_command


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "demo",
        parents=[parent],
        help="run a bulk Fibonacci job end to end (starts Workq unless it is already up)",
    )
    stack_options(parser)
    parser.add_argument("--items", type=_positive, default=1000, help="items in the job (1000)")
    parser.add_argument(
        "--max-iterations",
        type=_positive,
        default=1000,
        help="item i computes Fibonacci(i mod (M+1)) (default 1000)",
    )
    parser.set_defaults(handler=client_command(run, session=False), service=True)


def run(args: argparse.Namespace) -> int:
    from workq_entrypoints.demo import demo_login, is_serving, run_demo, summary, urls
    from workq_entrypoints.stack import local_runtime, start_stack

    if getattr(args, "set:core.log_level", None) is None:
        setattr(args, "set:core.log_level", "WARNING")  # the progress bar is the output
    runtime, spawn_args = local_runtime(args)
    auth_url, jobs_url = urls(runtime.settings)
    stack = None
    if is_serving(auth_url) and is_serving(jobs_url):
        print(f"Using the Workq already running at {jobs_url}.", flush=True)
    else:
        print(
            f"Starting Workq (SQLite + embedded broker under {runtime.settings.data_dir})...",
            flush=True,
        )
        stack = start_stack(runtime, spawn_args)
        auth_url, jobs_url = stack.auth_url, stack.jobs_url
    try:
        with workq.Client(jobs_url, auth_url) as client:
            demo_login(client, runtime.settings.data_dir)
            result = run_demo(client, args.items, args.max_iterations)
    finally:
        if stack is not None:
            stack.stop()
    print(summary(result), flush=True)
    return 0 if result.status == "completed" else 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value

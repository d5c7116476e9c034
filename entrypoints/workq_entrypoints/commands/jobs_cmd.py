"""``workq jobs``: run the jobs service (GraphQL, outbox relay) until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from typing import Any

from workq_entrypoints.options import runtime_from, setting_flag


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "jobs", parents=[parent], help="run the jobs service (migrates the database first)"
    )
    setting_flag(parser, "--host", "jobs.host", help="address to bind (default 127.0.0.1)")
    setting_flag(parser, "--port", "jobs.port", help="GraphQL HTTP port (default 3001, env PORT)")
    setting_flag(
        parser,
        "--auth-grpc",
        "jobs.auth_grpc",
        metavar="HOST:PORT",
        help="the auth service's gRPC address (default 127.0.0.1:5000)",
    )
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.jobs_service import start_jobs_service
    from workq_core.shutdown import StopSignal

    stop = StopSignal()
    handle = start_jobs_service(runtime_from(args))
    try:
        stop.wait()
    finally:
        handle.stop()
    return 0

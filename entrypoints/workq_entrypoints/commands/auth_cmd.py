"""``workq auth``: run the auth service (GraphQL over HTTP and gRPC) until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from typing import Any

from workq_entrypoints.options import runtime_from, setting_flag


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "auth", parents=[parent], help="run the auth service (migrates the database first)"
    )
    setting_flag(parser, "--host", "auth.host", help="address to bind (default 127.0.0.1)")
    setting_flag(parser, "--port", "auth.port", help="GraphQL HTTP port (default 3000, env PORT)")
    setting_flag(parser, "--grpc-port", "auth.grpc_port", help="gRPC port (default 5000)")
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.auth import start_auth_service
    from workq_core.shutdown import StopSignal

    stop = StopSignal()
    handle = start_auth_service(runtime_from(args))
    stop.wait()
    handle.stop()
    return 0

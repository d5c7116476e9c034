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
    setting_flag(
        parser, "--workers", "auth.workers", metavar="N", help="processes serving the ports"
    )
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.auth import start_auth_service
    from workq_core.shutdown import StopSignal
    from workq_entrypoints import workers

    stop = StopSignal()
    runtime = runtime_from(args)
    ports = workers.worker_ports()
    count = runtime.settings.auth.workers
    copies = []
    if ports is not None:  # a copy: the first process migrated the database
        handle = start_auth_service(
            runtime, port=ports[0], grpc_port=ports[1], apply_migrations=False, reuse_port=True
        )
    else:
        handle = start_auth_service(runtime, reuse_port=count > 1)
        if count > 1:
            copies = workers.start_copies(count - 1, [handle.http_port, handle.grpc_port])
    workers.serve_until_stopped(stop, handle, copies, runtime.settings.http.shutdown_grace_s)
    return 0

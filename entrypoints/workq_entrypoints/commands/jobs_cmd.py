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
    setting_flag(
        parser, "--workers", "jobs.workers", metavar="N", help="processes serving the port"
    )
    parser.set_defaults(handler=run, service=True)


def run(args: argparse.Namespace) -> int:
    from workq_core.jobs_service import start_jobs_service
    from workq_core.shutdown import StopSignal
    from workq_entrypoints import workers

    stop = StopSignal()
    runtime = runtime_from(args)
    ports = workers.worker_ports()
    count = runtime.settings.jobs.workers
    copies = []
    if ports is not None:  # a copy: the first process migrated and relays the outbox
        runtime = _without_relay(runtime)
        handle = start_jobs_service(runtime, port=ports[0], apply_migrations=False, reuse_port=True)
    else:
        handle = start_jobs_service(runtime, reuse_port=count > 1)
        if count > 1:
            copies = workers.start_copies(count - 1, [handle.port])
    workers.serve_until_stopped(stop, handle, copies, runtime.settings.http.shutdown_grace_s)
    return 0


def _without_relay(runtime: Any) -> Any:
    import dataclasses

    return dataclasses.replace(runtime, settings=runtime.settings.replace("jobs", relay=False))

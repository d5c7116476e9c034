"""The whole system in one process: auth service, jobs service (with relay), executor."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any

from workq_core.auth import start_auth_service
from workq_core.auth.runner import AuthServiceHandle
from workq_core.executor.runner import ExecutorHandle, start_executor
from workq_core.jobs_service.runner import JobsServiceHandle, start_jobs_service
from workq_core.runtime import Runtime
from workq_core.telemetry.tracing import configure_tracing
from workq_entrypoints.options import bootstrap_args, runtime_from

logger = logging.getLogger(__name__)

LOCAL_FLAGS = {
    "core.local": "true",  # local secrets and cookies: this is a developer's machine
    "executor.relay": "false",  # the jobs service's relay serves both in one process
}


def local_runtime(args: argparse.Namespace) -> tuple[Runtime, dict[str, Any]]:
    """The runtime for a local stack, and the bootstrap arguments for worker processes."""
    for key, value in LOCAL_FLAGS.items():
        setattr(args, f"set:{key}", getattr(args, f"set:{key}", None) or value)
    spawn_args = bootstrap_args(args)
    return runtime_from(args, boot=spawn_args), spawn_args


@dataclass
class Stack:
    """Running services; ``stop()`` drains the executor first, then the servers."""

    auth: AuthServiceHandle
    jobs: JobsServiceHandle
    executor: ExecutorHandle | None

    @property
    def auth_url(self) -> str:
        return f"http://{self.auth.http.host}:{self.auth.http_port}/graphql"

    @property
    def jobs_url(self) -> str:
        return self.jobs.url

    @property
    def executor_metrics_url(self) -> str | None:
        if self.executor is None or self.executor.http is None:
            return None
        return f"http://{self.executor.http.host}:{self.executor.http.port}/metrics"

    def stop(self) -> None:
        if self.executor is not None:
            self.executor.stop()
        self.jobs.stop()
        self.auth.stop()


def start_stack(
    runtime: Runtime,
    spawn_args: dict[str, Any] | None = None,
    *,
    with_executor: bool = True,
    free_ports: bool = False,
) -> Stack:
    """Start auth, jobs (pointed at this auth's gRPC port) and the executor; all or nothing.

    ``free_ports`` binds every server to a free port (tests, benchmarks) instead
    of the configured ones; the handles report which.
    """
    port = 0 if free_ports else None
    configure_tracing(runtime.settings, "up")  # one process serves all three: one service name
    auth = start_auth_service(runtime, port=port, grpc_port=port)
    started: list[Any] = [auth]
    try:
        grpc = f"{runtime.settings.auth.host}:{auth.grpc_port}"
        # the ports bound, not the configured ones (they differ with free_ports): the jobs
        # service needs the gRPC one, and its dashboard links to the HTTP one's sign-in page
        settings = runtime.settings.replace("jobs", auth_grpc=grpc).replace(
            "auth", port=auth.http_port
        )
        runtime = Runtime(settings, runtime.pm, runtime.catalog)
        jobs = start_jobs_service(runtime, port=port)
        started.append(jobs)
        executor = (
            start_executor(
                runtime,
                spawn_args=spawn_args,
                http_port=runtime.settings.executor.port if port is None else port,
            )
            if with_executor
            else None
        )
    except BaseException:
        for handle in reversed(started):
            handle.stop()
        raise
    return Stack(auth, jobs, executor)

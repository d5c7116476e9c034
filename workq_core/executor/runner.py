"""``workq executor``: worker processes and threads, the in-process relay, clean shutdown."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workq_core.db import connect, migrate
from workq_core.executor.handler import ItemHandler
from workq_core.executor.heartbeat import Heartbeat
from workq_core.executor.lease_renewal import LeaseRenewer
from workq_core.executor.process_pool import ProcessPool
from workq_core.executor.worker import Worker
from workq_core.jobs.admission import window_for
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.sweeper import lease_ms, stall_ms
from workq_core.logs import configure_logging
from workq_core.registry import JobTypeRegistry, timeout_of
from workq_core.runtime import Runtime, bootstrap
from workq_core.shutdown import StopSignal
from workq_core.telemetry import multiprocess
from workq_core.telemetry.endpoints import operational_app
from workq_core.telemetry.probes import broker_probe, database_probe
from workq_core.telemetry.tracing import configure_tracing, shutdown_tracing
from workq_core.web.server import HttpServer

logger = logging.getLogger(__name__)


@dataclass
class ExecutorHandle:
    """A running executor in this process (and its worker processes)."""

    worker: Worker
    relay: OutboxRelay | None
    heartbeat: Heartbeat
    closers: list[Any]
    children: list[multiprocessing.process.BaseProcess] = field(default_factory=list)
    grace_s: float = 30.0
    http: HttpServer | None = None

    @property
    def http_port(self) -> int | None:
        """The bound port of ``/metrics``, ``/healthz`` and ``/readyz``, if served."""
        return self.http.port if self.http is not None else None

    def stop(self) -> None:
        for child in self.children:
            if child.is_alive() and child.pid:
                child.terminate()  # SIGTERM: the child drains like this process does
        self.worker.stop(self.grace_s)
        self.heartbeat.stop()
        if self.relay is not None:
            self.relay.stop()
        for child in self.children:
            child.join(self.grace_s + 5)
            multiprocess.process_exited(child.pid)
        if self.http is not None:
            self.http.stop()
        for close in self.closers:
            close()


def start_executor(
    runtime: Runtime,
    *,
    spawn_args: Mapping[str, Any] | None = None,
    http_port: int | None = None,
) -> ExecutorHandle:
    """Start this process's worker (and ``processes - 1`` more processes) and the relay.

    ``spawn_args`` are the bootstrap arguments (config file, flags) handed to
    child processes so they resolve the same settings; without them only this
    process runs. With ``http_port`` (0: a free one) this process serves
    ``/metrics`` (summed over its worker processes), ``/healthz`` and ``/readyz``
    on ``executor.host``; ``workq executor`` passes ``executor.port``.
    """
    settings = runtime.settings
    configure_tracing(settings, "executor")
    db = connect(settings.database_url, settings.database.timeout_s)
    migrate(db)
    handle = _start_worker(runtime, db)
    if http_port is not None:
        handle.http = _start_http(handle, db, settings, http_port)
    if settings.executor.relay:
        handle.relay = OutboxRelay(
            db,
            handle.worker.handler.transport,
            stall_ms=stall_ms(settings),
            lease_ms=lease_ms(settings),
            window=window_for(settings),
        ).start()
        handle.worker.handler.wake_relay = handle.relay.wake
    if spawn_args is not None:
        context = multiprocessing.get_context("spawn")
        for n in range(settings.executor.processes - 1):
            child = context.Process(
                target=child_main, args=(dict(spawn_args),), name=f"workq-executor-{n + 1}"
            )
            child.start()
            handle.children.append(child)
    logger.info(
        "executor started",
        extra={
            "processes": settings.executor.processes,
            "threads": settings.executor.threads,
            "job_types": runtime.catalog.job_types.names(),
        },
    )
    return handle


def _start_http(handle: ExecutorHandle, db: Any, settings: Any, port: int) -> HttpServer:
    probes = [database_probe(db), broker_probe(handle.worker.handler.transport)]
    try:
        return HttpServer(
            operational_app(probes),
            settings.executor.host,
            port,
            settings=settings.http,
            setting="executor.port",
        ).start()
    except BaseException:
        handle.stop()
        raise


def _start_worker(runtime: Runtime, db: Any) -> ExecutorHandle:
    settings = runtime.settings
    job_types = runtime.catalog.job_types
    transport = runtime.transport()
    names = job_types.names()
    transport.declare(names)
    receiver = transport.subscribe(names)
    dedup = runtime.dedup_store(database=db)
    pool = _process_pool(runtime)
    handler = ItemHandler(
        db=db,
        transport=transport,
        dedup=dedup,
        job_types=job_types,
        pm=runtime.pm,
        settings=settings,
        lease_ms=lease_ms(settings),
        pool=pool,
    )
    worker = Worker(
        receiver, handler, settings.executor.threads, settings.executor.batch_size
    ).start()
    heartbeat = Heartbeat(db, names, lambda: worker.ran_dry_ms).start()
    renewer = LeaseRenewer(db, handler.running, settings.executor.lease_s).start()
    closers = [renewer.stop, *([pool.close] if pool else [])]  # after the worker drained
    return ExecutorHandle(
        worker=worker,
        relay=None,
        heartbeat=heartbeat,
        # the transport closes its receivers
        closers=[*closers, transport.close, dedup.close, db.close],
        grace_s=settings.executor.shutdown_grace_s,
    )


def _process_pool(runtime: Runtime) -> ProcessPool | None:
    """Worker processes for the job types that declare ``timeout_s``; None if none does."""
    job_types: JobTypeRegistry = runtime.catalog.job_types
    timed = {e.name: e.value for e in job_types.entries() if timeout_of(e.value) is not None}
    if not timed:
        return None
    core = runtime.settings.core
    return ProcessPool(timed, core.log_level, core.log_format)


def child_main(spawn_args: dict[str, Any]) -> None:
    """Entry of an extra worker process: same settings, no relay, drains on SIGTERM."""
    stop = StopSignal()
    runtime = bootstrap(**spawn_args)
    configure_logging(runtime.settings.core.log_level, runtime.settings.core.log_format)
    configure_tracing(runtime.settings, "executor")
    db = connect(runtime.settings.database_url, runtime.settings.database.timeout_s)
    handle = _start_worker(runtime, db)
    run_until_signalled(handle, stop)
    shutdown_tracing()
    # Drained and closed: skip interpreter teardown, where the native clients'
    # destructors can abort a process that shut down cleanly (see workq_entrypoints.cli).
    logging.shutdown()
    os._exit(0)


def run_until_signalled(handle: ExecutorHandle, stop: StopSignal) -> None:
    """Block until SIGTERM or SIGINT, then stop taking work and drain within the grace period."""
    stop.wait()
    logger.info("executor stopping", extra={"grace_s": handle.grace_s})
    handle.stop()
    logger.info("executor stopped")

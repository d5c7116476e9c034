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
from workq_core.executor.worker import Worker
from workq_core.jobs.admission import window_for
from workq_core.jobs.relay import OutboxRelay
from workq_core.jobs.sweeper import stall_ms
from workq_core.logs import configure_logging
from workq_core.runtime import Runtime, bootstrap
from workq_core.shutdown import StopSignal

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

    def stop(self) -> None:
        for child in self.children:
            if child.is_alive() and child.pid:
                child.terminate()  # SIGTERM: the child drains like this process does
        self.worker.stop(self.grace_s)
        self.heartbeat.stop()
        if self.relay is not None:
            self.relay.stop()
        for close in self.closers:
            close()
        for child in self.children:
            child.join(self.grace_s + 5)


def start_executor(
    runtime: Runtime, *, spawn_args: Mapping[str, Any] | None = None
) -> ExecutorHandle:
    """Start this process's worker (and ``processes - 1`` more processes) and the relay.

    ``spawn_args`` are the bootstrap arguments (config file, flags) handed to
    child processes so they resolve the same settings; without them only this
    process runs.
    """
    settings = runtime.settings
    db = connect(settings.database_url)
    migrate(db)
    handle = _start_worker(runtime, db)
    if settings.executor.relay:
        handle.relay = OutboxRelay(
            db,
            handle.worker.handler.transport,
            stall_ms=stall_ms(settings),
            window=window_for(settings),
        ).start()
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


def _start_worker(runtime: Runtime, db: Any) -> ExecutorHandle:
    settings = runtime.settings
    job_types = runtime.catalog.job_types
    transport = runtime.transport()
    names = job_types.names()
    transport.declare(names)
    receiver = transport.subscribe(names)
    dedup = runtime.dedup_store(database=db)
    handler = ItemHandler(
        db=db,
        transport=transport,
        dedup=dedup,
        job_types=job_types,
        pm=runtime.pm,
        settings=settings,
        lease_ms=int(settings.executor.lease_s * 1000),
    )
    worker = Worker(
        receiver, handler, settings.executor.threads, settings.executor.batch_size
    ).start()
    heartbeat = Heartbeat(db, names, lambda: worker.ran_dry_ms).start()
    return ExecutorHandle(
        worker=worker,
        relay=None,
        heartbeat=heartbeat,
        closers=[transport.close, dedup.close, db.close],  # the transport closes its receivers
        grace_s=settings.executor.shutdown_grace_s,
    )


def child_main(spawn_args: dict[str, Any]) -> None:
    """Entry of an extra worker process: same settings, no relay, drains on SIGTERM."""
    stop = StopSignal()
    runtime = bootstrap(**spawn_args)
    configure_logging(runtime.settings.core.log_level, runtime.settings.core.log_format)
    db = connect(runtime.settings.database_url)
    handle = _start_worker(runtime, db)
    run_until_signalled(handle, stop)
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

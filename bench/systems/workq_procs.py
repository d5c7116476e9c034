"""Workq's benchmark processes: ``auth``, ``jobs`` and ``worker``, as separate processes.

Each registers the benchmark job type in code (``bench.systems.workq_plugin``),
as the tests do, and otherwise runs exactly the shipped service, as a
deployment would (one process per service). ``auth READY`` and ``jobs READY``
write what they serve to the file READY once ready; all run until SIGTERM.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.systems.workq_plugin import PLUGINS
from workq_core.auth import start_auth_service
from workq_core.executor.runner import run_until_signalled, start_executor
from workq_core.jobs_service.runner import start_jobs_service
from workq_core.logs import configure_logging
from workq_core.runtime import Runtime, bootstrap
from workq_core.shutdown import StopSignal


def runtime() -> Runtime:
    configured = bootstrap(extra_plugins=PLUGINS)
    configure_logging("WARNING", "json")
    return configured


def auth(ready: Path) -> None:
    stop = StopSignal()
    handle = start_auth_service(runtime(), port=0, grpc_port=0)
    url = f"http://127.0.0.1:{handle.http_port}/graphql"
    ready.write_text(json.dumps({"url": url, "grpc": f"127.0.0.1:{handle.grpc_port}"}))
    stop.wait()
    handle.stop()


def jobs(ready: Path) -> None:
    stop = StopSignal()
    handle = start_jobs_service(runtime(), port=0)
    ready.write_text(json.dumps({"url": handle.url}))
    stop.wait()
    handle.stop()


def worker() -> None:
    stop = StopSignal()
    run_until_signalled(start_executor(runtime()), stop)


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "worker":
        worker()
    else:
        {"auth": auth, "jobs": jobs}[role](Path(sys.argv[2]))

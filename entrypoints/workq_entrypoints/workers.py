"""``--workers N``: one full service per process, sharing the listening ports (SO_REUSEPORT).

The first process migrates, binds and starts its service, then starts the
others as copies of its own command; they bind the same ports and the kernel
spreads new connections over all of them. A copy learns it is one, and which
ports to bind (port 0 has become a real one), from ``WORKER_ENV``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Protocol

from workq_core.shutdown import StopSignal

logger = logging.getLogger(__name__)

WORKER_ENV = "WORKQ_SERVICE_WORKER_PORTS"


class Stoppable(Protocol):
    def stop(self) -> None: ...


def worker_ports() -> list[int] | None:
    """The ports the first process bound, when this process is one of its copies."""
    raw = os.environ.get(WORKER_ENV)
    return [int(port) for port in raw.split(",")] if raw else None


def start_copies(count: int, ports: list[int]) -> list[subprocess.Popen[bytes]]:
    """``count`` more processes running this command on ``ports``."""
    env = {**os.environ, WORKER_ENV: ",".join(str(port) for port in ports)}
    command = [sys.executable, "-m", "workq_entrypoints", *sys.argv[1:]]
    # our own interpreter running our own command line
    copies = [subprocess.Popen(command, env=env) for _ in range(count)]  # noqa: S603
    logger.info("service workers started", extra={"pids": [p.pid for p in copies]})
    return copies


def serve_until_stopped(
    stop: StopSignal, handle: Stoppable, copies: list[subprocess.Popen[bytes]], grace_s: float
) -> None:
    """Serve until the stop signal; then the copies drain first, then this process.

    New connections go to this process while the copies drain; it stops last
    because it may own what they share (the embedded broker).
    """
    try:
        stop.wait()
    finally:
        signal_copies(copies)
        wait_copies(copies, grace_s + 10)
        handle.stop()


def signal_copies(copies: list[subprocess.Popen[bytes]]) -> None:
    """Ask each copy to stop (it finishes its in-flight requests first)."""
    for copy in copies:
        if copy.poll() is None:
            copy.send_signal(signal.SIGTERM)


def wait_copies(copies: list[subprocess.Popen[bytes]], timeout_s: float) -> None:
    """Wait for the copies to exit; kill any still running after ``timeout_s``."""
    for copy in copies:
        try:
            copy.wait(timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("service worker killed", extra={"pid": copy.pid})
            copy.kill()
            copy.wait()

"""The jobs every system runs, and the sink that records when they ran.

Each job appends one line ``job_id <tab> t_start <tab> t_done <tab> pid`` to a
per-process append-only file in ``$BENCH_SINK_DIR``. The sink is a local file,
not the system under test, so recording costs the same one ``write(2)`` for
every system and the harness can count completions without asking the
broker. Times are ``time.monotonic()``: on Linux that clock is system-wide, so
worker and harness timestamps compare directly and NTP steps cannot skew them.

This module is imported inside worker processes: it must stay dependency-free.
"""

from __future__ import annotations

import os
import threading
import time

SINK_ENV = "BENCH_SINK_DIR"
FIB_ITERATIONS = 1000
KINDS = ("noop", "fib")

_fd: int | None = None
_fd_pid: int | None = None
_open_lock = threading.Lock()


def fib(iterations: int = FIB_ITERATIONS) -> str:
    """Fibonacci by iteration, as Workq's built-in job computes it; a string outgrows 64 bits."""
    a, b = 0, 1
    for _ in range(iterations):
        a, b = b, a + b
    return str(a)


def run_job(kind: str, job_id: str) -> str:
    """Run one benchmark job and record its start and end in the sink."""
    t_start = time.monotonic()
    value = "" if kind == "noop" else fib()
    t_done = time.monotonic()
    _record(job_id, t_start, t_done)
    return value


def _record(job_id: str, t_start: float, t_done: float) -> None:
    global _fd, _fd_pid
    pid = os.getpid()
    if _fd is None or _fd_pid != pid:
        with _open_lock:
            if _fd is None or _fd_pid != pid:
                # A forked child (RQ's work horse, Celery's pool) gets its own
                # file so no two processes interleave lines; threads of one
                # process share the fd, and O_APPEND keeps each line whole.
                path = os.path.join(os.environ[SINK_ENV], f"{pid}.sink")
                _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                _fd_pid = pid
    os.write(_fd, f"{job_id}\t{t_start!r}\t{t_done!r}\t{pid}\n".encode())

"""Inside a worker process: run the attempts the executor sends, one at a time, and answer.

The executor (``process_pool``) starts ``python -m
workq_core.executor.pool_worker FD``, sends ``("init", sys_path, job_types,
log_level, log_format)`` (the job types that declare ``timeout_s``, pickled)
on the socket ``FD``, and kills the process when an attempt passes its
timeout. Then, executor to worker: ``("run", seq, job_type, data,
context)``, ``("cancel", seq)``, ``("stop",)``; worker to executor:
``("ready",)``, ``("started", seq)`` (it took the attempt), ``("beat",
seq)``, ``("progress", seq, done, total, message)``, ``("done", seq,
saw_cancel, result_json, error)``, where ``error``
is None or ``(kind, type_name, message, delay_ms)``.
Exceptions travel as those fields, never pickled: the executor rebuilds
them, so an exception that cannot be pickled is recorded like any other.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from workq_core.errors import InvalidPayload, PermanentFailure, RetryLater
from workq_core.logs import configure_logging
from workq_core.types import JobContext, JobType

# Heartbeats are forwarded at most this often: a handler may call heartbeat() in a tight loop.
BEAT_EVERY_S = 0.2
ErrorFields = tuple[str, str, str, int | None]


class WorkerControl:
    """``ctx.control`` and ``ctx``'s progress sink in a worker process.

    Heartbeats and progress reports go up the pipe, each at most every
    ``BEAT_EVERY_S`` (a handler may call them in a tight loop), the last
    progress report always (``flush``, before the outcome); cancellation
    comes down.
    """

    def __init__(self, send: Any, seq: int) -> None:
        self.send = send
        self.seq = seq
        self.cancel_requested = threading.Event()
        self.saw_cancel = False
        self._last_sent = 0.0
        self._last_report = 0.0
        self._pending: tuple[int, int | None, str | None] | None = None

    def heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_sent >= BEAT_EVERY_S:
            self._last_sent = now
            self.send(("beat", self.seq))

    def report(self, done: int, total: int | None, message: str | None) -> None:
        self._pending = (done, total, message)
        if time.monotonic() - self._last_report >= BEAT_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self._pending is not None:
            self._last_report = time.monotonic()
            self.send(("progress", self.seq, *self._pending))
            self._pending = None

    @property
    def cancelled(self) -> bool:
        if self.cancel_requested.is_set():
            self.saw_cancel = True
            return True
        return False


class Channel:
    """The pipe to the executor: sends from any thread; one reader thread receives.

    If the executor goes away (the pipe closes), this process exits at once,
    whatever its handler is doing: nobody is left to record the outcome, and
    the item's lease runs out and it runs elsewhere.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.requests: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.current: WorkerControl | None = None
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self.conn.send(message)

    def read_forever(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(1)
            current = self.current
            if message[0] == "cancel":
                if current is not None and current.seq == message[1]:
                    current.cancel_requested.set()
            else:
                self.requests.put(message)


def main(fd: int) -> None:
    """Take the executor's ``init``, then answer its ``run`` requests until ``stop``."""
    # Signals are the executor's to handle: it drains and then stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn = Connection(fd)
    _, sys_path, job_types, log_level, log_format = conn.recv()
    sys.path[:] = sys_path  # before unpickling: the job types' modules import from it
    configure_logging(log_level, log_format)
    serve(conn, pickle.loads(job_types))  # noqa: S301 - sent by our own executor


def serve(conn: Connection, job_types: Mapping[str, JobType]) -> None:
    """Answer ``run`` requests until ``stop``, one at a time."""
    channel = Channel(conn)
    threading.Thread(target=channel.read_forever, name="workq-pool-reader", daemon=True).start()
    channel.send(("ready",))
    while True:
        message = channel.requests.get()
        if message[0] == "stop":
            return
        _, seq, name, data, context = message
        control = WorkerControl(channel.send, seq)
        channel.current = control
        channel.send(("started", seq))  # from here on, a lost process cost this attempt
        result, error = run_one(job_types[name], data, context, control)
        control.flush()
        channel.current = None
        channel.send(("done", seq, control.saw_cancel, result, error))


def run_one(
    job_type: JobType, data: Any, context: tuple[str, int, int, str], control: WorkerControl
) -> tuple[str | None, ErrorFields | None]:
    """The handler's result as JSON, or its exception as fields; never raises."""
    job_id, index, attempt, key = context
    ctx = JobContext(job_id, index, attempt, key, control=control, progress_sink=control)
    try:
        return json.dumps(job_type.run(data, ctx), allow_nan=False), None
    except BaseException as exc:  # SystemExit too: the executor decides what it means
        return None, error_fields(exc)


def error_fields(exc: BaseException) -> ErrorFields:
    name, message = type(exc).__name__, str(exc)
    if isinstance(exc, RetryLater):
        return "retry_later", name, message, exc.delay_ms
    if isinstance(exc, PermanentFailure):
        return "permanent", name, message, None
    if isinstance(exc, InvalidPayload):
        return "invalid", name, message, None
    return "error", name, message, None


if __name__ == "__main__":
    main(int(sys.argv[1]))

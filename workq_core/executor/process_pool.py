"""Attempts of job types that declare ``timeout_s``, run in worker processes that can be killed.

A thread cannot be stopped from outside, so an attempt with a timeout runs
in a worker process (``pool_worker``) instead: the executor thread
that claimed it sends the item over a pipe, relays the handler's heartbeats
and the job's cancellation while it waits, and at the deadline kills the
process, which is then replaced by a fresh one on the next attempt. Worker
processes are reused between attempts; there are never more of them than
attempts running at once (at most one per executor thread).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from workq_core.errors import (
    AttemptTimedOut,
    InvalidPayload,
    PermanentFailure,
    PluginError,
    RetryLater,
    WorkerProcessLost,
    WorkqError,
)
from workq_core.executor.pool_worker import ErrorFields
from workq_core.executor.running import RunningAttempt
from workq_core.jobs.messages import idempotency_key
from workq_core.types import JobType, ProgressSink

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0  # a spawned interpreter importing the plugins, on a loaded machine
POLL_S = 0.1  # how often a waiting thread checks for cancellation to pass on
STOP_WAIT_S = 2.0


class NeverStarted(WorkerProcessLost):
    """The worker process was lost before it began the attempt: nothing of it ran."""


class RemoteError(WorkqError):
    """A handler's exception in a worker process, rebuilt under the original's class name."""


_remote_types: dict[str, type[RemoteError]] = {}


def rebuild(fields: ErrorFields) -> BaseException:
    """The exception the handler raised, as the executor records it (same type name and text)."""
    kind, name, message, delay_ms = fields
    if kind == "retry_later":
        return RetryLater(delay_ms or 0, message)
    if kind == "permanent":
        return PermanentFailure(message)
    if kind == "invalid":
        return InvalidPayload(message)
    if name not in _remote_types:
        _remote_types[name] = type(name, (RemoteError,), {"__module__": "workq.handler"})
    return _remote_types[name](message)


# What a worker process answers: the result's JSON, or the handler's error as fields.
Answer = tuple[str | None, ErrorFields | None]


class WorkerProcess:
    """One worker process (``python -m workq_core.executor.pool_worker``) and its socket.

    A plain subprocess rather than a ``multiprocessing`` one: nothing of the
    executor's ``__main__`` is imported again, and no resource-tracker
    process outlives the executor. The job types follow as a pickle, after
    this interpreter's ``sys.path``, so whatever the executor could import
    the worker can too.
    """

    def __init__(self, job_types: bytes, logs: tuple[str, str]) -> None:
        mine, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "workq_core.executor.pool_worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        self.conn = Connection(mine.detach())
        self.seq = 0
        self.conn.send(("init", list(sys.path), job_types, *logs))
        if not self.conn.poll(START_TIMEOUT_S) or self._recv() != ("ready",):
            self.kill()
            code = self.process.returncode
            raise WorkerProcessLost(f"a worker process did not start (exit code {code})")

    def run(self, attempt: RunningAttempt, timeout_s: float, progress: ProgressSink) -> Answer:
        """Send the attempt, wait up to ``timeout_s``: the result's JSON or the handler's error.

        The handler's heartbeats go to ``attempt``, its progress reports to ``progress``.

        Raises AttemptTimedOut or WorkerProcessLost (NeverStarted when the
        process was gone before it took the attempt), after which this process
        is of no further use.
        """
        self.seq += 1
        c = attempt.claim
        context = (c.job_id, c.index, c.attempt, idempotency_key(c.job_id, c.index))
        deadline = time.monotonic() + timeout_s
        cancel_sent = started = False
        try:
            self._send(("run", self.seq, c.job_type, c.data, context))
            while not started:  # an idle process killed from outside fails here
                started = self._recv() == ("started", self.seq)
        except WorkerProcessLost as lost:
            raise NeverStarted(lost.message) from None
        while True:
            if attempt.cancel_requested and not cancel_sent:
                self._send(("cancel", self.seq))
                cancel_sent = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AttemptTimedOut(
                    f"the attempt ran past the job type's timeout_s of {timeout_s:g} s; "
                    "its worker process was killed"
                )
            if not self.conn.poll(min(remaining, POLL_S)):
                continue
            message = self._recv()
            if message[0] == "beat" and message[1] == self.seq:
                attempt.heartbeat()
            elif message[0] == "progress" and message[1] == self.seq:
                progress.report(*message[2:])
            elif message[0] == "done" and message[1] == self.seq:
                _, _, saw_cancel, result, error = message
                attempt.saw_cancel = attempt.saw_cancel or saw_cancel
                return result, error

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self.conn.send(message)
        except OSError:
            raise WorkerProcessLost("the worker process is gone (its socket closed)") from None

    def _recv(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self.conn.recv()
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1)
            raise WorkerProcessLost(
                f"the worker process exited (code {self.process.returncode}) before answering"
            ) from None
        return message

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(STOP_WAIT_S)
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_WAIT_S)
        self.conn.close()


class ProcessPool:
    """Worker processes for the job types in ``job_types``, started when first needed.

    Each job type (and everything it holds) must pickle, since that is how
    it reaches the worker processes: checked here, at executor start, so a
    job type that cannot is a start-up PluginError naming it.
    """

    def __init__(self, job_types: Mapping[str, JobType], log_level: str, log_format: str) -> None:
        for name, job in job_types.items():
            _check_picklable(name, job)
        self.job_types = pickle.dumps(dict(job_types))
        self.logs = (log_level, log_format)
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False

    def run(self, attempt: RunningAttempt, timeout_s: float, progress: ProgressSink) -> str | None:
        """Run ``attempt`` in a worker process; its result's JSON, or the handler's exception.

        An idle process can die between attempts (killed from outside) and
        still look alive for a moment; one that is lost before it took the
        attempt is replaced and the attempt sent to a fresh one, once.
        """
        for tries_left in (1, 0):
            worker = self._acquire()
            try:
                result, error = worker.run(attempt, timeout_s, progress)
                break
            except NeverStarted:
                self._discard(worker)
                if not tries_left:
                    raise
            except BaseException:
                self._discard(worker)  # timed out, lost, or interrupted mid-attempt
                raise
        self._release(worker)
        if error is not None:
            raise rebuild(error)
        return result

    def _acquire(self) -> WorkerProcess:
        """An idle worker process that is still alive, else a new one."""
        while True:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                break
            if worker.process.poll() is None:
                return worker
            self._discard(worker)  # it died between attempts (killed from outside)
        worker = WorkerProcess(self.job_types, self.logs)
        with self._lock:
            self._all.add(worker)
        return worker

    def _release(self, worker: WorkerProcess) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        self._discard(worker)

    def _discard(self, worker: WorkerProcess) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def close(self) -> None:
        """Stop idle workers; kill any still running an attempt (shutdown's grace is over)."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), self._all - set(self._idle)
            self._idle.clear()
            self._all.clear()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()


def _check_picklable(name: str, job: JobType) -> None:
    try:
        pickle.dumps(job)
    except Exception as exc:
        raise PluginError(
            f"job type {name!r} declares timeout_s, so it runs in worker processes and must "
            f"pickle (a class importable by its module path, picklable attributes): {exc}"
        ) from None

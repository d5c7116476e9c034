"""The attempts one executor process holds: their heartbeats and whether their job was cancelled."""

from __future__ import annotations

import threading
import time

from workq_core.executor.attempts import Claim


class RunningAttempt:
    """One claimed attempt, from its claim until its outcome is committed.

    The handler's :class:`~workq_core.JobContext` reaches it as ``ctx.control``.
    ``last_beat`` stays None until the handler first calls ``heartbeat()``:
    from then on the lease renewer keeps the item's lease only while beats
    keep coming. ``cancel_requested`` is set by the renewer when it finds the
    job cancelled; ``saw_cancel`` records that the handler read it, which
    makes the attempt's outcome ``cancelled``. ``running`` is true while
    its handler runs (a batch's other attempts wait or have ended).
    """

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.last_beat: float | None = None
        self.cancel_requested = False
        self.saw_cancel = False
        self.stall_reported = False
        self.running = False

    def heartbeat(self) -> None:
        self.last_beat = time.monotonic()

    @property
    def cancelled(self) -> bool:
        if self.cancel_requested:
            self.saw_cancel = True
        return self.cancel_requested

    def stalled(self, now: float, lease_s: float) -> bool:
        """True when the handler declared heartbeats and sent none for a whole lease."""
        return self.last_beat is not None and now - self.last_beat > lease_s


class RunningAttempts:
    """The attempts every worker thread of this process holds, safe to read from other threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_thread: dict[int, list[RunningAttempt]] = {}

    def hold(self, attempts: list[RunningAttempt]) -> None:
        with self._lock:
            self._by_thread[threading.get_ident()] = attempts

    def drop(self) -> None:
        with self._lock:
            self._by_thread.pop(threading.get_ident(), None)

    def snapshot(self) -> list[RunningAttempt]:
        with self._lock:
            return [a for attempts in self._by_thread.values() for a in attempts]

"""A deadline for a whole run, so a stalled broker call fails instead of hanging.

The phase timeouts only cover waiting for completions; an ``enqueue`` blocked
inside a client library (RabbitMQ blocks publishers on a memory alarm, for
example) would wait forever. A timer thread sends this process SIGUSR1 at the
deadline; the handler raises :class:`RunTimeout` in the main thread, and a
real signal interrupts a blocking socket call, where a flag would not.
SIGUSR1 rather than SIGALRM so pytest-timeout's alarm keeps working.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class RunTimeout(RuntimeError):
    """The run passed its overall deadline."""


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`RunTimeout` in the calling (main) thread if the block outlasts ``seconds``."""
    fired = threading.Event()
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if fired.is_set() and not done.is_set():
            raise RunTimeout(f"{what} still running after {seconds:.0f}s")

    def watch() -> None:
        if not done.wait(seconds):
            fired.set()
            os.kill(os.getpid(), signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, on_signal)
    timer = threading.Thread(target=watch, name="run-deadline", daemon=True)
    timer.start()
    try:
        yield
    finally:
        done.set()
        timer.join()
        signal.signal(signal.SIGUSR1, previous)

"""Waiting for the signal that ends a service command."""

from __future__ import annotations

import signal
import threading


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (call from the main thread)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
